// The approvers' keys, in git's and ssh-keygen's allowed-signers format (ssh-keygen(1), ALLOWED
// SIGNERS): `principals [options] keytype base64 [comment]`, options `namespaces="…"`,
// `valid-after="…"`, `valid-before="…"` (and `cert-authority`, not supported: such a line is
// reported and skipped). Parsed by the worker's activity, matched in the workflow: pure.
import { parsePublicKey, sameKey, SshSignatureError, type SshPublicKey } from './ssh-signature';

/** One usable line of the file, as the workflow keeps it. */
export interface AllowedSigner {
  /** comma-separated principal patterns (`*`, `?`, `!` as ssh-keygen matches them) */
  principals: string;
  /** comma-separated namespace patterns; absent: any namespace */
  namespaces?: string;
  /** epoch ms, from valid-after / valid-before */
  validAfter?: number;
  validBefore?: number;
  keyType: string;
  /** the key's base64, as in the file */
  key: string;
  /** line number in the file, for messages */
  line: number;
}

export interface ParsedAllowedSigners {
  signers: AllowedSigner[];
  /** lines skipped, with why: shown in the restore's status so nobody wonders why a key is refused */
  problems: string[];
}

/** Splits off the first whitespace-delimited field, honouring double quotes. */
function field(s: string): [string, string] {
  let i = 0;
  let quoted = false;
  for (; i < s.length; i++) {
    if (s[i] === '"') quoted = !quoted;
    else if (!quoted && /\s/.test(s[i])) break;
  }
  return [s.slice(0, i), s.slice(i).trimStart()];
}

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

/** Splits `a,b="x,y",c` on the commas outside quotes. */
function options(s: string): { name: string; value?: string }[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of s) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((o) => {
    const eq = o.indexOf('=');
    return eq < 0 ? { name: o.toLowerCase() } : { name: o.slice(0, eq).toLowerCase(), value: unquote(o.slice(eq + 1)) };
  });
}

/** ssh-keygen's timestamps: YYYYMMDD[HHMM[SS]], in UTC with a trailing Z, else the worker's local time. */
export function parseSignerTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/i.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((v) => Number(v ?? 0));
  const ms = m[7] ? Date.UTC(y, mo - 1, d, h, mi, s) : new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

const KEY_TYPE = /^(ssh-|ecdsa-|sk-|rsa-)/;

/** Parses the file's text; a bad line is reported and skipped, never guessed at. */
export function parseAllowedSigners(text: string): ParsedAllowedSigners {
  const signers: AllowedSigner[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    const skip = (why: string) => problems.push(`line ${line}: ${why}; the line is skipped`);
    const [principalsField, rest1] = field(s);
    const principals = unquote(principalsField);
    if (principals === '') return skip('no principals');
    let [next, rest] = field(rest1);
    const signer: Partial<AllowedSigner> = { principals, line };
    if (!KEY_TYPE.test(next)) {
      for (const o of options(next)) {
        if (o.name === 'namespaces' && o.value) signer.namespaces = o.value;
        else if ((o.name === 'valid-after' || o.name === 'valid-before') && o.value) {
          const at = parseSignerTime(o.value);
          if (at === undefined) return skip(`${o.name}="${o.value}" is not a time ssh-keygen reads (YYYYMMDD[HHMM[SS]][Z])`);
          signer[o.name === 'valid-after' ? 'validAfter' : 'validBefore'] = at;
        } else if (o.name === 'cert-authority') return skip('cert-authority (certificates) is not supported');
        else return skip(`option '${o.name}' is not known`);
      }
      [next, rest] = field(rest);
    }
    const [key] = field(rest);
    if (next === '' || key === '') return skip('expected a key type and a key after the principals');
    try {
      parsePublicKey(next, key);
    } catch (err) {
      if (err instanceof SshSignatureError) return skip(err.message);
      return skip('the key is not valid base64 of an SSH key');
    }
    signers.push({ ...signer, keyType: next, key } as AllowedSigner);
  });
  return { signers, problems };
}

/** ssh-keygen's match_pattern: `*` any run of characters, `?` one character. */
function matchPattern(text: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(text);
}

/** ssh-keygen's match_pattern_list: true when a pattern matches and no `!pattern` does. */
export function matchPatternList(text: string, list: string): boolean {
  let matched = false;
  for (const p of list.split(',')) {
    const negated = p.startsWith('!');
    if (matchPattern(text, negated ? p.slice(1) : p)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * Why `key` may not sign as `principal` in `namespace` at `now`, or undefined when one line of the
 * file allows it. The workflow calls this with its own time.
 */
export function signerProblem(
  signers: AllowedSigner[],
  principal: string,
  key: SshPublicKey,
  namespace: string,
  now: number,
): string | undefined {
  const lines = signers.filter((s) => matchPatternList(principal, s.principals) && sameKey(key, parsePublicKey(s.keyType, s.key)));
  if (lines.length === 0) return `the allowed signers do not list this key for '${principal}'`;
  const why: string[] = [];
  for (const s of lines) {
    if (s.namespaces !== undefined && !matchPatternList(namespace, s.namespaces)) {
      why.push(`line ${s.line} limits the key to namespaces "${s.namespaces}", not "${namespace}"`);
    } else if (s.validAfter !== undefined && now < s.validAfter) {
      why.push(`line ${s.line}: the key is valid only after ${new Date(s.validAfter).toISOString()}`);
    } else if (s.validBefore !== undefined && now >= s.validBefore) {
      why.push(`line ${s.line}: the key was valid only before ${new Date(s.validBefore).toISOString()}`);
    } else return undefined;
  }
  return why.join('; ');
}

/** The approvers' keys as the worker read them: what the restore workflow keeps in its state. */
export interface ApproverKeys {
  /** the file, as configured (APPROVERS_ALLOWED_SIGNERS); absent when none is */
  source?: string;
  /** sha256 of the file's bytes ('none' / 'unreadable: …' when there is no content): changes when the file does */
  version: string;
  signers: AllowedSigner[];
  problems: string[];
  /** set when no key can be used: why (no file configured, unreadable file) */
  problem?: string;
}
