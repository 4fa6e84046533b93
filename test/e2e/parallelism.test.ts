// Parallelism through an upgrade, on the real stack: v1 at parallelism 1 is upgraded to v2 with
// options.parallelism 2 and back to v1 with 1. The graph is built at the running job's parallelism
// and each vertex set through pipeline.jobvertex-parallelism-overrides, so every operator keeps its
// id and state: the sequence source's remaining ids are split over two subtasks and joined again,
// and every id from 1 to the end lands exactly once, written by the version that ran when it was
// emitted. One table keeps Paimon's committer chained to its writer (that vertex stays at 1), the
// other has 'sink.committer-operator-chaining' = 'false' and two buckets (its writer goes to 2).
// Between the two upgrades a restore takes v2 back to the first upgrade's savepoint (written at 1):
// the restored job runs at the parallelism the stopped v2 ran at, not at the script's.
import type { Client } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { flinkLine } from '../../activities/compat';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { UpgradeResult } from '../../workflows/messages';
import type { RestoreResult } from '../../workflows/restore-messages';
import { run } from '../support/activity-calls';
import { activities } from '../support/flink-activities';
import { cancelJobsNamed, deployableDir, jobState } from '../support/demo-pipeline';
import { startWorkerAndClient, type WorkerAndClient } from '../support/in-process-worker';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';
import { checkExactlyOnce, grows, vertices } from './parallelism-checks';
import { approveSigned } from '../support/approvals';

const DATABASE = 'par_e2e';
const CHAINED = 'par_seq_a';
const UNCHAINED = 'par_seq_b';
const SINKS = [CHAINED, UNCHAINED].map((t) => `${DATABASE}.${t}`);
const JOB = 'par-e2e-seq';
const LAST_ID = 6000;
const taskQueue = `par-e2e-${Date.now()}`;

let running: WorkerAndClient | undefined;
let client: Client;

function script(version: 'v1' | 'v2'): string {
  const file = path.join(deployableDir('par-e2e-'), `${version}.sql`);
  writeFileSync(
    file,
    `SET 'pipeline.name' = '${JOB}';
CREATE TEMPORARY TABLE par_sequence (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '30',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${LAST_ID}'
);
EXECUTE STATEMENT SET BEGIN
  INSERT INTO paimon.${DATABASE}.${CHAINED} SELECT id, CONCAT('${version}:', CAST(id AS STRING)) FROM par_sequence;
  INSERT INTO paimon.${DATABASE}.${UNCHAINED} SELECT id, CONCAT('${version}:', CAST(id AS STRING)) FROM par_sequence;
END;`,
  );
  return file;
}

async function createTables(): Promise<void> {
  await paimonQuery(`CREATE DATABASE IF NOT EXISTS \`${DATABASE}\``);
  const columns = '(id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED)';
  await paimonQuery(
    `DROP TABLE IF EXISTS \`${DATABASE}\`.\`${CHAINED}\``,
    `CREATE TABLE \`${DATABASE}\`.\`${CHAINED}\` ${columns} WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true')`,
    `DROP TABLE IF EXISTS \`${DATABASE}\`.\`${UNCHAINED}\``,
    `CREATE TABLE \`${DATABASE}\`.\`${UNCHAINED}\` ${columns} WITH ('bucket' = '2', 'sink.savepoint.auto-tag' = 'true', ` +
      `'sink.committer-operator-chaining' = 'false')`,
  );
}

/** A failure's message with its causes' (WorkflowFailedError -> ActivityFailure -> ApplicationFailure). */
const messages = (err: unknown): string => {
  const e = err as { message?: string; cause?: unknown } | undefined;
  return e ? `${e.message ?? ''} ${messages(e.cause)}` : '';
};
const q = (table: string) => `\`${DATABASE}\`.\`${table}\``;
const maxId = async (table: string) => Number((await paimonQuery(`SELECT MAX(id) AS hi FROM ${q(table)}`))[0]?.hi ?? 0);

async function upgrade(from: 'v1' | 'v2', to: 'v1' | 'v2', parallelism: number): Promise<UpgradeResult> {
  const handle = await startUpgrade(
    client,
    {
      job: { jobName: JOB },
      newVersion: { kind: 'sql', version: to, scriptFile: script(to) },
      oldVersion: { kind: 'sql', version: from, scriptFile: script(from) },
      sinkTables: SINKS,
      options: { parallelism, healthTimeout: '2m', tagTimeout: '60s' },
    },
    { taskQueue },
  );
  return handle.result();
}

/** v2, approved at once, back to `savepointId`'s tag and savepoint. */
async function restoreV2(savepointId: number): Promise<RestoreResult> {
  const handle = await startRestore(
    client,
    {
      job: { jobName: JOB },
      deployment: { kind: 'sql', version: 'v2', scriptFile: script('v2') },
      sinkTables: SINKS,
      restorePoint: { savepointId },
      options: { approvers: ['ops-bob'], requestedBy: 'ops-alice', approvalTimeout: '5m', tagTimeout: '60s', healthTimeout: '2m' },
    },
    { taskQueue },
  );
  const plan = await until('the restore to wait for approval', 120_000, async () => restorePlan(client, { jobName: JOB }).catch(() => undefined));
  await approveSigned(client, { jobName: JOB }, { approver: 'ops-bob', planVersion: plan.version });
  return handle.result();
}

describe('upgrade with parallelism on the real stack', () => {
  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(JOB);
    await createTables();
    running = await startWorkerAndClient(config, taskQueue, createActivities(config));
    client = running.client;
  });

  afterAll(async () => {
    await cancelJobsNamed(JOB);
    await running?.stop();
  });

  it('on a Flink line that ignores per-vertex overrides (compat.ts), refuses the parallelism option before the stop', async (ctx) => {
    const flinkVersion = (await flinkGet<{ 'flink-version': string }>('/config'))['flink-version'];
    if (flinkLine(flinkVersion)?.parallelismOverrides !== false) ctx.skip(`Flink ${flinkVersion} applies the overrides`);
    const { jobId } = await run(activities().deployJob, {
      deployment: { kind: 'sql', version: 'v1', scriptFile: script('v1') },
      deployToken: `par-e2e/${Date.now()}`,
    });
    await grows(q(CHAINED), 50);
    const refused = await upgrade('v1', 'v2', 2).then(
      () => undefined,
      (err: unknown) => messages(err),
    );
    expect(refused).toMatch(/pipeline\.jobvertex-parallelism-overrides.*Nothing was changed/);
    expect(await jobState(jobId)).toBe('RUNNING');
    await cancelJobsNamed(JOB);
  }, 300_000);

  it('v1 at 1 to v2 at 2 and back to v1 at 1: state kept, every id exactly once', async (ctx) => {
    const flinkVersion = (await flinkGet<{ 'flink-version': string }>('/config'))['flink-version'];
    if (flinkLine(flinkVersion)?.parallelismOverrides === false) ctx.skip(`Flink ${flinkVersion} ignores per-vertex overrides: the upgrade refuses the option (test above)`);
    const { jobId: v1JobId } = await run(activities().deployJob, {
      deployment: { kind: 'sql', version: 'v1', scriptFile: script('v1') },
      deployToken: `par-e2e/${Date.now()}`,
    });
    expect((await vertices(v1JobId)).map((v) => v.parallelism)).toEqual([1, 1, 1, 1]);
    for (const table of [CHAINED, UNCHAINED]) await grows(q(table), 100);

    const up = await upgrade('v1', 'v2', 2);
    expect(up.status, up.reason).toBe('upgraded');
    expect(up.stateCheck).toMatch(/not checked before the stop/);
    // The vertex that chains par_seq_a's committer stays at 1 and says why; the rest go to 2,
    // except par_seq_b's own committer vertex (max parallelism 1).
    const chained = up.parallelism!.find((v) => v.name.includes(`Global Committer : ${CHAINED}`))!;
    expect(up.parallelism!.map((v) => v.name), 'the vertices').toHaveLength(4);
    expect(chained).toMatchObject({ from: 1, to: 1, kept: expect.stringMatching(/Global Committer/) });
    const writerB = up.parallelism!.find((v) => v.name.startsWith(`Writer : ${UNCHAINED}`))!;
    expect(writerB).toMatchObject({ from: 1, to: 2 });
    const committerB = up.parallelism!.find((v) => v.name.startsWith(`Global Committer : ${UNCHAINED}`))!;
    expect(committerB).toMatchObject({ from: 1, to: 1 });
    const source = up.parallelism!.find((v) => v.name.startsWith('Source'))!;
    expect(source).toMatchObject({ from: 1, to: 2 });
    expect(up.parallelism).toHaveLength(4);
    // What Flink runs is what was planned, vertex by vertex (same ids: the graph kept its hashes).
    const running = new Map((await vertices(up.newJobId!)).map((v) => [v.id, v.parallelism]));
    expect(Object.fromEntries(running)).toEqual(Object.fromEntries(up.parallelism!.map((v) => [v.id, v.to])));
    for (const table of [CHAINED, UNCHAINED]) await grows(q(table), 150);

    // Back to the first upgrade's savepoint, taken at 1: v2 starts from it at the parallelism it ran at.
    const restored = await restoreV2(up.savepoint!.id);
    expect(restored.status, restored.reason).toBe('restored');
    expect(restored.writerParallelism?.overrides).toEqual(Object.fromEntries(running));
    expect(Object.fromEntries((await vertices(restored.newJobId!)).map((v) => [v.id, v.parallelism]))).toEqual(Object.fromEntries(running));
    for (const table of [CHAINED, UNCHAINED]) await grows(q(table), 100);

    const back = await upgrade('v2', 'v1', 1);
    expect(back.status, back.reason).toBe('upgraded');
    expect((await vertices(back.newJobId!)).map((v) => v.parallelism)).toEqual([1, 1, 1, 1]);
    expect(new Set((await vertices(back.newJobId!)).map((v) => v.id))).toEqual(new Set(running.keys()));

    // The sequence ends at LAST_ID: the job finishes once its last checkpoint committed every id.
    await until('v1 to finish the sequence', 400_000, async () => ((await jobState(back.newJobId!)) === 'FINISHED' ? true : undefined));
    for (const table of [CHAINED, UNCHAINED]) {
      expect(await maxId(table)).toBe(LAST_ID);
      await checkExactlyOnce(q(table), LAST_ID, up.tag!, back.tag!);
    }
  }, 900_000);
});
