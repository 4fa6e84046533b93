// Signing an approval with the approver's SSH key through ssh-keygen (OpenSSH 8.1 or later):
// a private key file, or a public key whose private half ssh-agent holds.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ApprovalSigner } from './approval';

export class SigningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningError';
  }
}

/** `ssh-keygen -Y sign -f keyFile -n namespace` over the text on stdin. */
export function sshKeygenSigner(keyFile: string, sshKeygen = 'ssh-keygen'): ApprovalSigner {
  return (text, namespace) => {
    if (!existsSync(keyFile)) return Promise.reject(new SigningError(`no key at ${keyFile}`));
    return new Promise((resolve, reject) => {
      const child = execFile(sshKeygen, ['-q', '-Y', 'sign', '-f', keyFile, '-n', namespace], { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) {
          const why = String(stderr).trim() || err.message;
          const agent = keyFile.endsWith('.pub') ? ' (with a .pub file the private key must be in ssh-agent: ssh-add -L lists them)' : '';
          reject(new SigningError(`ssh-keygen could not sign with ${keyFile}${agent}: ${why}`));
        } else if (!stdout.includes('-----BEGIN SSH SIGNATURE-----')) {
          reject(new SigningError(`ssh-keygen printed no signature for ${keyFile}`));
        } else resolve(stdout);
      });
      child.stdin!.end(text);
    });
  };
}
