// SSH signatures as `ssh-keygen -Y sign` makes them (OpenSSH PROTOCOL.sshsig), checked in pure
// code: the restore's approval validator runs in Temporal's workflow sandbox (deterministic, no
// I/O, no Node built-ins), so no ssh-keygen and no node:crypto there. The curves come from
// @noble/curves (audited, pure JS, no dependencies beyond @noble/hashes); no maintained pure
// package parses the SSHSIG armour, so this file does (a few length-prefixed fields, ssh-wire.ts).
//
// Key types: ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa (signatures rsa-sha2-256/512,
// modulus of 2048 bits or more; PKCS#1 v1.5 checked with BigInt). Not supported: security-key
// types (sk-ssh-ed25519@openssh.com, sk-ecdsa-…) and certificates.
import { ed25519 } from '@noble/curves/ed25519';
import { p256, p384, p521 } from '@noble/curves/nist';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { base64Decode, base64Encode, bigintToBytes, bytesToBigint, equalBytes, fail, SshSignatureError, utf8, WireReader, wireString } from './ssh-wire';

export { base64Decode, base64Encode, SshSignatureError, utf8 } from './ssh-wire';

export const SUPPORTED_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

/** An SSH public key: its type and its wire blob (what `ssh-keygen -l` fingerprints). */
export interface SshPublicKey {
  type: string;
  blob: Uint8Array;
}

export interface SshSignature {
  publicKey: SshPublicKey;
  namespace: string;
  hashAlgorithm: 'sha256' | 'sha512';
  /** the signature's own format id (ssh-ed25519, rsa-sha2-512, …) and bytes */
  format: string;
  signature: Uint8Array;
}

// ---- keys -------------------------------------------------------------------------------------

/** A key as written in authorized_keys or allowed_signers: `keytype base64`. */
export function parsePublicKey(type: string, base64: string): SshPublicKey {
  const blob = base64Decode(base64);
  const inner = new WireReader(blob).text();
  if (inner !== type) fail(`the key says it is '${inner}', the line says '${type}'`);
  if (!SUPPORTED_KEY_TYPES.includes(type)) fail(`key type '${type}' is not supported (supported: ${SUPPORTED_KEY_TYPES.join(', ')})`);
  keyParts({ type, blob }); // refuses a malformed key now rather than at the first approval
  return { type, blob };
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export const fingerprint = (key: SshPublicKey): string => `SHA256:${base64Encode(sha256(key.blob), false)}`;

export const sameKey = (a: SshPublicKey, b: SshPublicKey): boolean => equalBytes(a.blob, b.blob);

type KeyParts =
  | { kind: 'ed25519'; point: Uint8Array }
  | { kind: 'ecdsa'; curve: typeof p256; size: number; point: Uint8Array; format: string }
  | { kind: 'rsa'; e: bigint; n: bigint; bytes: number };

const ECDSA: Record<string, { curve: typeof p256; size: number; name: string }> = {
  'ecdsa-sha2-nistp256': { curve: p256, size: 32, name: 'nistp256' },
  'ecdsa-sha2-nistp384': { curve: p384, size: 48, name: 'nistp384' },
  'ecdsa-sha2-nistp521': { curve: p521, size: 66, name: 'nistp521' },
};

function keyParts(key: SshPublicKey): KeyParts {
  const r = new WireReader(key.blob);
  r.text();
  if (key.type === 'ssh-ed25519') {
    const point = r.string();
    r.end();
    if (point.length !== 32) fail('an ed25519 key has 32 bytes');
    return { kind: 'ed25519', point };
  }
  const ec = ECDSA[key.type];
  if (ec) {
    if (r.text() !== ec.name) fail(`the curve of a ${key.type} key is ${ec.name}`);
    const point = r.string();
    r.end();
    if (point.length !== 1 + 2 * ec.size || point[0] !== 4) fail(`a ${ec.name} key is an uncompressed point`);
    return { kind: 'ecdsa', curve: ec.curve, size: ec.size, point, format: key.type };
  }
  if (key.type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    r.end();
    const bits = n.toString(2).length;
    if (bits < 2048) fail(`an RSA key of ${bits} bits is too short (2048 at least)`);
    return { kind: 'rsa', e, n, bytes: Math.ceil(bits / 8) };
  }
  return fail(`key type '${key.type}' is not supported`);
}

// ---- signatures -------------------------------------------------------------------------------

const ARMOR = /^-----BEGIN SSH SIGNATURE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END SSH SIGNATURE-----\s*$/;

/** Reads an armored SSHSIG (`ssh-keygen -Y sign` output); refuses anything else. */
export function parseSshSignature(armored: string): SshSignature {
  if (typeof armored !== 'string' || armored.length > 20_000) fail('a signature is the text ssh-keygen -Y sign writes');
  const m = ARMOR.exec(armored.trim());
  if (!m) fail("not an SSH signature: expected the '-----BEGIN SSH SIGNATURE-----' block ssh-keygen -Y sign writes");
  const r = new WireReader(base64Decode(m![1].replace(/\s+/g, '')));
  if (new TextDecoder().decode(r.raw(6)) !== 'SSHSIG') fail('not an SSH signature (no SSHSIG preamble)');
  const version = r.u32();
  if (version !== 1) fail(`SSH signature version ${version} is not supported (1 is)`);
  const keyBlob = r.string();
  const namespace = r.text();
  r.string(); // reserved
  const hashAlgorithm = r.text();
  const sig = new WireReader(r.string());
  r.end();
  if (hashAlgorithm !== 'sha256' && hashAlgorithm !== 'sha512') fail(`hash '${hashAlgorithm}' is not one SSHSIG allows`);
  const type = new WireReader(keyBlob).text();
  const publicKey = { type, blob: keyBlob };
  if (!SUPPORTED_KEY_TYPES.includes(type)) fail(`key type '${type}' is not supported (supported: ${SUPPORTED_KEY_TYPES.join(', ')})`);
  const format = sig.text();
  const signature = sig.string();
  sig.end();
  return { publicKey, namespace, hashAlgorithm: hashAlgorithm as SshSignature['hashAlgorithm'], format, signature: new Uint8Array(signature) };
}

/** What SSHSIG signs: the preamble, the namespace, and the message's hash. */
function signedData(sig: SshSignature, message: Uint8Array): Uint8Array {
  const digest = sig.hashAlgorithm === 'sha256' ? sha256(message) : sha512(message);
  const head = utf8('SSHSIG');
  const body = wireString(utf8(sig.namespace), new Uint8Array(0), utf8(sig.hashAlgorithm), digest);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

const RSA_DIGEST_INFO: Record<string, { hash: (m: Uint8Array) => Uint8Array; prefix: string }> = {
  'rsa-sha2-256': { hash: sha256, prefix: '3031300d060960864801650304020105000420' },
  'rsa-sha2-512': { hash: sha512, prefix: '3051300d060960864801650304020305000440' },
};

const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

/**
 * True when `sig` is a signature of `message` by its own key in `namespace`. The signer's key
 * is checked against the allowed signers by the caller (it is inside the signature).
 */
export function verifySshSignature(sig: SshSignature, message: Uint8Array, namespace: string): boolean {
  if (sig.namespace !== namespace) return false;
  const data = signedData(sig, message);
  const key = keyParts(sig.publicKey);
  try {
    if (key.kind === 'ed25519') {
      return sig.format === 'ssh-ed25519' && sig.signature.length === 64 && ed25519.verify(sig.signature, data, key.point);
    }
    if (key.kind === 'ecdsa') {
      if (sig.format !== key.format) return false;
      const rs = new WireReader(sig.signature);
      const compact = new Uint8Array(2 * key.size);
      compact.set(bigintToBytes(rs.mpint(), key.size), 0);
      compact.set(bigintToBytes(rs.mpint(), key.size), key.size);
      rs.end();
      // OpenSSH hashes with the curve's own hash (SHA-256/384/512) and does not normalise s.
      return key.curve.verify(compact, data, key.point, { prehash: true, lowS: false, format: 'compact' });
    }
    const rsa = RSA_DIGEST_INFO[sig.format];
    if (!rsa || sig.signature.length !== key.bytes) return false;
    const s = bytesToBigint(sig.signature);
    if (s >= key.n) return false;
    // PKCS#1 v1.5: rebuild the encoded message and compare it whole (no parsing of the padding).
    const em = bigintToBytes(modPow(s, key.e, key.n), key.bytes);
    const t = new Uint8Array([...hexBytes(rsa.prefix), ...rsa.hash(data)]);
    const expected = new Uint8Array(key.bytes).fill(0xff);
    expected[0] = 0;
    expected[1] = 1;
    expected[key.bytes - t.length - 1] = 0;
    expected.set(t, key.bytes - t.length);
    return key.bytes >= t.length + 11 && equalBytes(em, expected);
  } catch (err) {
    if (err instanceof SshSignatureError) return false;
    throw err;
  }
}
