// Where a deployment's file may come from: inside the deployments root, symlinks resolved,
// readable. On a scratch folder of its own; nothing of the stack is used.
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deploymentFileInside } from '../../../activities/flink/deployment-files';

let base: string;
let root: string;

describe('deploymentFileInside', () => {
  beforeAll(() => {
    base = mkdtempSync(path.join(tmpdir(), 'deployment-files-'));
    root = path.join(base, 'root');
    mkdirSync(path.join(root, 'sql'), { recursive: true });
    writeFileSync(path.join(root, 'sql', 'v1.sql'), 'SELECT 1');
    writeFileSync(path.join(base, 'outside.sql'), 'SELECT 1');
    symlinkSync(path.join(base, 'outside.sql'), path.join(root, 'sql', 'out-link.sql'));
    symlinkSync(path.join(root, 'sql', 'v1.sql'), path.join(root, 'in-link.sql'));
    symlinkSync(base, path.join(root, 'up'));
    writeFileSync(path.join(root, 'secret.sql'), 'SELECT 1');
    chmodSync(path.join(root, 'secret.sql'), 0o000);
  });

  it('accepts a file inside the root, by absolute path or through a symlink that stays inside', async () => {
    expect(await deploymentFileInside(root, path.join(root, 'sql', 'v1.sql'))).toEqual({ ok: true, realPath: path.join(root, 'sql', 'v1.sql') });
    expect(await deploymentFileInside(root, path.join(root, 'in-link.sql'))).toEqual({ ok: true, realPath: path.join(root, 'sql', 'v1.sql') });
  });

  it('refuses ../ out of the root, a symlink out of it, a folder symlinked out, naming where it resolves', async () => {
    for (const file of [path.join(root, '..', 'outside.sql'), path.join(root, 'sql', 'out-link.sql'), path.join(root, 'up', 'outside.sql')]) {
      const check = await deploymentFileInside(root, file);
      expect(check, file).toEqual({
        ok: false,
        problem: `it resolves to ${path.join(base, 'outside.sql')}, outside the deployments root ${root} (DEPLOYMENTS_ROOT); put the file under the root`,
      });
    }
    expect(await deploymentFileInside(root, '/etc/passwd')).toMatchObject({ ok: false, problem: expect.stringContaining('it resolves to /etc/passwd, outside') });
  });

  it('refuses a missing file, a folder, an unreadable file, a missing root; outside the root a missing file is "outside"', async () => {
    expect(await deploymentFileInside(root, path.join(root, 'nope.sql'))).toEqual({ ok: false, problem: 'no such file on the worker' });
    expect(await deploymentFileInside(root, path.join(root, 'sql'))).toEqual({ ok: false, problem: `${path.join(root, 'sql')} is not a regular file` });
    // root reads everything: the permission check is only meaningful for other users.
    if (process.getuid?.() !== 0) {
      expect(await deploymentFileInside(root, path.join(root, 'secret.sql'))).toMatchObject({ ok: false, problem: expect.stringContaining('not readable') });
    }
    expect(await deploymentFileInside(path.join(base, 'no-root'), path.join(root, 'sql', 'v1.sql'))).toMatchObject({
      ok: false,
      problem: expect.stringContaining('does not exist on the worker'),
    });
    expect(await deploymentFileInside(root, path.join(base, 'missing.sql'))).toMatchObject({ ok: false, problem: expect.stringContaining('outside the deployments root') });
  });
});
