// The bytes of SSH keys and signatures: base64 and SSH's wire fields (RFC 4251: uint32, string,
// mpint), read and written in pure code for the workflow sandbox (workflows/approval-proof.ts).

export class SshSignatureError extends Error {}

export const fail = (message: string): never => {
  throw new SshSignatureError(message);
};

export const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
export const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Standard base64 (padding optional), refusing any other character. */
export function base64Decode(text: string): Uint8Array {
  const s = text.replace(/=+$/, '');
  if (s.length % 4 === 1) fail('base64 of an impossible length');
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const c of s) {
    const v = B64_INDEX.get(c);
    if (v === undefined) fail(`'${c}' is not a base64 character`);
    value = (value << 6) | v!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

export function base64Encode(bytes: Uint8Array, pad = true): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < 4; k++) out += k < chars ? B64[(n >> (18 - 6 * k)) & 63] : pad ? '=' : '';
  }
  return out;
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

export const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Reads SSH wire fields (RFC 4251: uint32, string, mpint). */
export class WireReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  u32(): number {
    if (this.at + 4 > this.bytes.length) fail('the data ends early');
    const b = this.bytes;
    const v = ((b[this.at] << 24) >>> 0) + (b[this.at + 1] << 16) + (b[this.at + 2] << 8) + b[this.at + 3];
    this.at += 4;
    return v;
  }
  raw(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) fail('the data ends early');
    const v = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  string(): Uint8Array {
    return this.raw(this.u32());
  }
  text(): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.string());
  }
  mpint(): bigint {
    const b = this.string();
    if (b.length > 0 && b[0] & 0x80) fail('a negative number where a positive one belongs');
    return bytesToBigint(b);
  }
  end(): void {
    if (this.at !== this.bytes.length) fail('unexpected data after the last field');
  }
}

export const bytesToBigint = (b: Uint8Array): bigint => b.reduce((n, x) => (n << 8n) | BigInt(x), 0n);

export function bigintToBytes(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  if (n !== 0n) fail('a number too large for its field');
  return out;
}

export function wireString(...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set([(p.length >>> 24) & 0xff, (p.length >>> 16) & 0xff, (p.length >>> 8) & 0xff, p.length & 0xff], at);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}
