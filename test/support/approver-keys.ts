// Approvers' SSH keys for tests, made and used with the real ssh-keygen: a temp folder with one
// key per approver and an allowed-signers file the worker is pointed at (APPROVERS_ALLOWED_SIGNERS).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { approvalNamespace, approvalStatement, type ApprovalSubject } from '../../workflows/approval-proof';

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface ApproverKeyring {
  dir: string;
  /** the allowed-signers file */
  allowedSigners: string;
  /** the private key file of `name` (its public key is `${keyFile(name)}.pub`) */
  keyFile(name: string): string;
  /** `principals [options] keytype base64` for `name`'s key */
  line(name: string, options?: string): string;
  /** writes the allowed-signers file with these lines */
  writeAllowed(lines: string[]): void;
  /** ssh-keygen -Y sign of `text` in `namespace` with `name`'s key */
  signText(name: string, text: string, namespace: string): string;
  /** the signature an approval carries: `name`'s key over the statement for `subject` */
  sign(name: string, subject: ApprovalSubject): string;
  remove(): void;
}

/** Makes a key per name (ed25519 unless `types` says otherwise) and an allowed-signers file listing them all. */
export function makeApproverKeys(names: string[], types: Partial<Record<string, KeyType>> = {}): ApproverKeyring {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'approver-keys-'));
  const keyFile = (name: string) => path.join(dir, name);
  for (const name of names) {
    const type = types[name] ?? 'ed25519';
    const size = type === 'rsa' ? ['-b', '3072'] : [];
    execFileSync('ssh-keygen', ['-q', '-t', type, ...size, '-N', '', '-C', name, '-f', keyFile(name)]);
  }
  const allowedSigners = path.join(dir, 'allowed_signers');
  const line = (name: string, options?: string) => {
    const [keyType, key] = readFileSync(`${keyFile(name)}.pub`, 'utf8').trim().split(/\s+/);
    return [name, ...(options ? [options] : []), keyType, key].join(' ');
  };
  const writeAllowed = (lines: string[]) => writeFileSync(allowedSigners, lines.map((l) => `${l}\n`).join(''));
  writeAllowed(names.map((n) => line(n)));
  const signText = (name: string, text: string, namespace: string) =>
    execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', keyFile(name), '-n', namespace], { input: text }).toString();
  return {
    dir,
    allowedSigners,
    keyFile,
    line,
    writeAllowed,
    signText,
    sign: (name, subject) => signText(name, approvalStatement(subject), approvalNamespace(subject.workflowId)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
