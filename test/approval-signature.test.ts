// The approval's proof (workflows/approval-proof.ts over src/domain/ssh-signature.ts and
// allowed-signers.ts): signatures made by the real ssh-keygen, checked by the pure code the
// workflow runs, and held to `ssh-keygen -Y verify` on the same files.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matchPatternList, parseAllowedSigners, parseSignerTime, type ApproverKeys } from '../src/domain/allowed-signers';
import { base64Decode, base64Encode } from '../src/domain/ssh-signature';
import { approvalNamespace, approvalStatement, checkApprovalSignature, planDigest, type ApprovalSubject } from '../workflows/approval-proof';
import { makeApproverKeys } from './support/approver-keys';

const ring = makeApproverKeys(['alice', 'bob', 'rsa-svc', 'p256-svc', 'p384-svc', 'p521-svc', 'mallory'], {
  'rsa-svc': 'rsa',
  'p256-svc': 'ecdsa',
});
// ssh-keygen -t ecdsa makes nistp256; the other curves by -b.
for (const [name, bits] of [['p384-svc', 384], ['p521-svc', 521]] as const) {
  execFileSync('rm', ['-f', ring.keyFile(name), `${ring.keyFile(name)}.pub`]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', String(bits), '-N', '', '-f', ring.keyFile(name)]);
}
afterAll(() => ring.remove());

const keysOf = (lines: string[]): ApproverKeys => ({ version: 'test', ...parseAllowedSigners(lines.join('\n')) });
const subject: ApprovalSubject = {
  decision: 'approve',
  approver: 'alice',
  workflowId: 'flink-job/orders',
  runId: '0190-run-a',
  planVersion: 2,
  planDigest: planDigest({ version: 2, job: 'orders' }),
};
const NOW = Date.UTC(2026, 11, 6);
const allNames = ['alice', 'bob', 'rsa-svc', 'p256-svc', 'p384-svc', 'p521-svc'];
const everyone = () => keysOf(allNames.map((n) => ring.line(n)));

describe('approval signatures', () => {
  it.each(allNames)("accepts %s's ssh-keygen signature of its own approval (every supported key type)", (name) => {
    const s = { ...subject, approver: name };
    const result = checkApprovalSignature(ring.sign(name, s), s, everyone(), NOW);
    expect(result).toEqual({ proof: { kind: 'ssh-signature', key: expect.stringMatching(/^SHA256:/), planDigest: s.planDigest } });
    // The fingerprint is ssh-keygen's own.
    const printed = execFileSync('ssh-keygen', ['-l', '-f', `${ring.keyFile(name)}.pub`]).toString().split(' ')[1];
    expect((result as { proof: { key: string } }).proof.key).toBe(printed);
  });

  it('agrees with ssh-keygen -Y verify on the same signature and allowed-signers file', () => {
    const sig = ring.sign('alice', subject);
    const sigFile = path.join(ring.dir, 'alice.sig');
    writeFileSync(sigFile, sig);
    const verify = (principal: string) =>
      execFileSync('ssh-keygen', ['-Y', 'verify', '-f', ring.allowedSigners, '-I', principal, '-n', approvalNamespace(subject.workflowId), '-s', sigFile], {
        input: approvalStatement(subject),
      }).toString();
    ring.writeAllowed(allNames.map((n) => ring.line(n)));
    expect(verify('alice')).toContain('Good "flink-paimon-ops:flink-job/orders" signature for alice');
    expect(() => verify('bob')).toThrow();
    expect(checkApprovalSignature(sig, { ...subject, approver: 'bob' }, everyone(), NOW)).toEqual({
      problem: expect.stringContaining("may not sign as 'bob': the allowed signers do not list this key for 'bob'"),
    });
  });

  it('refuses a forged identity, a wrong key, another run, plan version, digest or decision, and a malformed signature', () => {
    const keys = everyone();
    const good = ring.sign('alice', subject);
    const refused = (sig: unknown, s: ApprovalSubject = subject) => {
      const r = checkApprovalSignature(sig, s, keys, NOW);
      return 'problem' in r ? r.problem : 'accepted';
    };
    // bob claims to be alice with his own key; mallory's key is in no file.
    expect(refused(ring.sign('bob', subject))).toMatch(/^key SHA256:\S+ may not sign as 'alice'/);
    expect(refused(ring.sign('mallory', subject))).toMatch(/may not sign as 'alice'/);
    for (const other of [{ runId: '0190-run-b' }, { planVersion: 3 }, { planDigest: planDigest({ version: 2, job: 'other' }) }, { decision: 'reject' as const }]) {
      expect(refused(good, { ...subject, ...other })).toMatch(/does not match this .* it was made for another plan, run, decision or approver/);
    }
    // Signed for another job's restore: its namespace.
    expect(refused(ring.sign('alice', { ...subject, workflowId: 'flink-job/other' }))).toMatch(/namespace 'flink-paimon-ops:flink-job\/other'/);
    expect(refused(undefined)).toMatch(/needs the approver's SSH signature/);
    expect(refused('not a signature')).toMatch(/^malformed signature: not an SSH signature/);
    expect(refused(42)).toMatch(/^malformed signature/);
    // One byte of the signature changed (inside the base64 body).
    const body = good.split('\n');
    body[3] = body[3].slice(0, 10) + (body[3][10] === 'A' ? 'B' : 'A') + body[3].slice(11);
    expect(refused(body.join('\n'))).not.toBe('accepted');
    expect(refused(good)).toBe('accepted');
  });

  it('honours namespaces="…" per job, valid-after and valid-before, and negated principals', () => {
    const sig = ring.sign('alice', subject);
    const check = (line: string, at = NOW) => {
      const r = checkApprovalSignature(sig, subject, keysOf([line]), at);
      return 'problem' in r ? r.problem : 'accepted';
    };
    expect(check(ring.line('alice', 'namespaces="flink-paimon-ops:flink-job/orders*"'))).toBe('accepted');
    expect(check(ring.line('alice', 'namespaces="flink-paimon-ops:flink-job/payments-*"'))).toMatch(/limits the key to namespaces/);
    expect(check(ring.line('alice', 'valid-after="20270101Z"'))).toMatch(/valid only after 2027-01-01T00:00:00.000Z/);
    expect(check(ring.line('alice', 'valid-before="202612051200Z"'))).toMatch(/valid only before 2026-12-05T12:00:00.000Z/);
    expect(check(ring.line('alice', 'valid-after="20260101Z",valid-before="20270101Z"'))).toBe('accepted');
    expect(check(ring.line('alice').replace(/^alice/, 'a*,!alice'))).toMatch(/do not list this key/);
    expect(matchPatternList('alice@example.com', '*@example.com')).toBe(true);
    expect(parseSignerTime('20261206')).toBe(new Date(2026, 11, 6).getTime());
  });

  it('reports and skips lines it cannot use, and says why no key can verify', () => {
    const parsed = parseAllowedSigners(
      [
        '# approvers',
        '',
        ring.line('alice'),
        ring.line('bob', 'cert-authority'),
        'carol ssh-ed25519 AAAA',
        'dave sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA==',
        ring.line('rsa-svc', 'valid-after="tomorrow"'),
      ].join('\n'),
    );
    expect(parsed.signers.map((s) => s.principals)).toEqual(['alice']);
    expect(parsed.problems).toEqual([
      'line 4: cert-authority (certificates) is not supported; the line is skipped',
      expect.stringMatching(/^line 5: /),
      expect.stringMatching(/^line 6: .*not supported/),
      expect.stringMatching(/^line 7: valid-after="tomorrow" is not a time/),
    ]);
    const none: ApproverKeys = { version: 'none', signers: [], problems: [], problem: 'APPROVERS_ALLOWED_SIGNERS is not set' };
    expect(checkApprovalSignature(ring.sign('alice', subject), subject, none, NOW)).toEqual({ problem: 'no approval can be verified now: APPROVERS_ALLOWED_SIGNERS is not set' });
  });

  it('digests a plan the same whatever its key order, and not its own digest field', () => {
    expect(planDigest({ a: 1, b: [{ y: 2, x: 1 }] })).toBe(planDigest({ b: [{ x: 1, y: 2 }], a: 1, digest: 'sha256:old' }));
    expect(planDigest({ a: 1 })).not.toBe(planDigest({ a: 2 }));
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(base64Decode(base64Encode(bytes))).toEqual(bytes);
    expect(base64Encode(bytes)).toBe(Buffer.from(bytes).toString('base64'));
  });
});
