// The command launcher's contract without a cluster: what the command receives (LAUNCH_* variables),
// and that a command that fails or answers anything but {"restUrl", "jobId"} is a failed deploy whose
// message carries its output, recorded nowhere. The launch on real processes through a command is
// test/e2e/application-mode.test.ts.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployJob } from '../../../activities/flink/deploy';
import type { FlinkClient } from '../../../activities/flink/client';
import type { SqlGatewayClient } from '../../../activities/sql-gateway/client';
import { LaunchRegistry } from '../../../activities/targets/registry';
import { applicationDrivers } from '../../../activities/targets/targets';
import type { ApplicationModeConfig } from '../../../src/config/application-mode';
import type { Config } from '../../../src/config/config';
import { expectFatal, run } from '../../support/activity-calls';

const dir = mkdtempSync(path.join(os.tmpdir(), 'command-launcher-'));
const script = path.join(dir, 'v2.sql');
writeFileSync(script, "SET 'pipeline.name' = 'orders';\nINSERT INTO paimon.shop.orders SELECT 1, 'x';\n");
const seen = path.join(dir, 'seen.env');

function deployWith(launchCommand: string, registryDir = mkdtempSync(path.join(dir, 'registry-'))) {
  const config: ApplicationModeConfig = { launchCommand, launchTimeoutMs: 20_000, registryDir, localLauncher: '/nonexistent', stackHome: dir };
  const registry = new LaunchRegistry(registryDir);
  // No session cluster is touched on the application target: these stand in for clients never called.
  const deploy = (input: unknown) =>
    deployJob({} as FlinkClient, {} as SqlGatewayClient, {} as Config['paimon'], input, { drivers: applicationDrivers(config), registry });
  return { deploy, registry };
}

// A savepoint on an object store: the worker does not read its header (a local one it would).
const input = {
  deployment: { kind: 'sql', version: 'v2', scriptFile: script },
  deployToken: 'flink-job/orders/deploy-new-version',
  target: { kind: 'application', launcher: 'command' },
  savepointPath: 's3://bucket/savepoints/savepoint-1',
  parallelism: { graphParallelism: 2, overrides: { ['a'.repeat(32)]: 3 } },
};

describe('command launcher', () => {
  it('gives the launch in LAUNCH_* variables, reads the last line, and records where the job runs', async () => {
    const answer = { restUrl: 'http://flink-orders-rest:8081/', jobId: 'b'.repeat(32), extra: 'kept out' };
    const { deploy, registry } = deployWith(`env | grep ^LAUNCH_ | sort > ${seen}; echo starting...; echo '${JSON.stringify(answer)}'`);
    const launched = await run(deploy, input);
    expect(launched).toEqual({ restUrl: 'http://flink-orders-rest:8081', jobId: 'b'.repeat(32) });
    const env = Object.fromEntries(
      (await import('node:fs')).readFileSync(seen, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({
      LAUNCH_JOB_NAME: 'orders',
      LAUNCH_VERSION: 'v2',
      LAUNCH_KIND: 'sql',
      LAUNCH_ARTIFACT: script,
      LAUNCH_SAVEPOINT: 's3://bucket/savepoints/savepoint-1',
      LAUNCH_PARALLELISM: '2',
      LAUNCH_VERTEX_PARALLELISM: `${'a'.repeat(32)}:3`,
      LAUNCH_ALLOW_NON_RESTORED_STATE: 'false',
      LAUNCH_DEPLOY_TOKEN: 'flink-job/orders/deploy-new-version',
      LAUNCH_PROGRAM_ARGS: '[]',
    });
    expect(env.LAUNCH_DEPLOY_ID).toMatch(/^[0-9a-f]{32}$/);
    expect(await registry.byJobId('b'.repeat(32))).toMatchObject({ jobName: 'orders', launcher: 'command', version: 'v2', restUrl: 'http://flink-orders-rest:8081' });
    // The same deploy again: answered from its record, the command is not run a second time.
    writeFileSync(seen, '');
    expect(await run(deploy, input)).toEqual(launched);
    expect((await import('node:fs')).readFileSync(seen, 'utf8')).toBe('');
  });

  it('a command that exits non-zero is a failed deploy naming its status and output; nothing recorded', async () => {
    const registryDir = mkdtempSync(path.join(dir, 'registry-'));
    const { deploy } = deployWith("echo 'kubectl: connection refused' >&2; echo partial; exit 3", registryDir);
    const failure = await expectFatal(run(deploy, input), 'DeployFailed');
    expect(failure.message).toMatch(/command launcher\): the launcher exited with status 3\. stdout: partial; stderr: kubectl: connection refused/);
    expect(readdirSync(registryDir)).toEqual([]);
  });

  it('an answer that is not {"restUrl", "jobId"} is a failed deploy saying what is wrong', async () => {
    for (const [command, said] of [
      ['echo done', /its last line is not JSON\. stdout: done/],
      [`echo '{"restUrl": "flink:8081", "jobId": "nope"}'`, /restUrl is an http\(s\) URL; jobId is a Flink job id, 32 hex characters/],
      ['true', /its last line is not JSON\. stdout: \(empty\)/],
    ] as const) {
      const failure = await expectFatal(run(deployWith(command).deploy, input), 'DeployFailed');
      expect(failure.message).toMatch(said);
    }
  });

  it('refuses without APP_LAUNCH_COMMAND, and a missing script before any command runs', async () => {
    expect((await expectFatal(run(deployWith('').deploy, input), 'DeployFailed')).message).toMatch(/APP_LAUNCH_COMMAND is not set/);
    const missing = { ...input, deployment: { kind: 'sql', version: 'v2', scriptFile: path.join(dir, 'nope.sql') } };
    writeFileSync(seen, '');
    const failure = await expectFatal(run(deployWith(`echo ran > ${seen}`).deploy, missing), 'InvalidInput');
    expect(failure.message).toMatch(/cannot read .*nope\.sql/);
    expect((await import('node:fs')).readFileSync(seen, 'utf8')).toBe('');
  });
});
