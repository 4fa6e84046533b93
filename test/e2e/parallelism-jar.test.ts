// Parallelism and state through an upgrade of a jar deployment, on the real stack. Before the stop,
// a v2 whose job graph lacks a vertex holding state (it no longer writes one of the tables) is
// refused naming that vertex, and with allowNonRestoredState the plan names the state as dropped.
// Then v1 at parallelism 1 goes to v2 at 2 (the jar's flinkConfiguration carries the overrides)
// and back to v1 at 1, with the state of every vertex kept: every id exactly once.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { flinkLine } from '../../activities/compat';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { Deployment } from '../../src/domain/model';
import type { UpgradeResult } from '../../workflows/messages';
import { run } from '../support/activity-calls';
import { activities } from '../support/flink-activities';
import { cancelJobsNamed, jobState } from '../support/demo-pipeline';
import { startWorkerAndClient, type WorkerAndClient } from '../support/in-process-worker';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';
import { checkExactlyOnce, grows, vertices } from './parallelism-checks';
import { buildParallelismJar, parJobArgs } from './parallelism-jar-job';
import { activitiesRun, refusalOf } from '../bad-input/refusal';

const DATABASE = 'par_jar_e2e';
const TABLES = ['par_jar_a', 'par_jar_b'];
const SINKS = TABLES.map((t) => `${DATABASE}.${t}`);
const JOB = 'par-jar-e2e-seq';
const LAST_ID = 6000;
const taskQueue = `par-jar-e2e-${Date.now()}`;
// Running a jar builds its job graph in the JobManager: slow on a loaded machine.
const slowFlink = { ...config, flink: { ...config.flink, requestTimeoutMs: 120_000 } };
const q = (table: string) => `\`${DATABASE}\`.\`${table}\``;

let running: WorkerAndClient | undefined;
let client: Client;
let jar: string;

const version = (v: 'v1' | 'v2', tables = TABLES): Deployment => ({
  kind: 'jar',
  version: v,
  jarFile: jar,
  args: parJobArgs({ version: v, database: DATABASE, tables, name: JOB, last: LAST_ID, rate: 30 }),
});

async function upgrade(from: Deployment, to: Deployment, options: Record<string, unknown>) {
  return startUpgrade(
    client,
    { job: { jobName: JOB }, newVersion: to, oldVersion: from, sinkTables: SINKS, options: { healthTimeout: '2m', tagTimeout: '60s', ...options } },
    { taskQueue },
  );
}

describe('upgrade of a jar with parallelism and a state check, on the real stack', () => {
  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(JOB);
    jar = buildParallelismJar();
    await paimonQuery(`CREATE DATABASE IF NOT EXISTS \`${DATABASE}\``);
    for (const table of TABLES) {
      await paimonQuery(
        `DROP TABLE IF EXISTS ${q(table)}`,
        `CREATE TABLE ${q(table)} (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
          `WITH ('bucket' = '2', 'sink.savepoint.auto-tag' = 'true', 'sink.committer-operator-chaining' = 'false')`,
      );
    }
    running = await startWorkerAndClient(config, taskQueue, createActivities(slowFlink));
    client = running.client;
  });

  afterAll(async () => {
    await cancelJobsNamed(JOB);
    await running?.stop();
  });

  it('refuses a v2 that drops a stateful vertex before the stop, then goes 1 -> 2 -> 1 keeping every id once', async (ctx) => {
    const flinkVersion = (await flinkGet<{ 'flink-version': string }>('/config'))['flink-version'];
    if (flinkLine(flinkVersion)?.parallelismOverrides === false) ctx.skip(`Flink ${flinkVersion} ignores per-vertex overrides: the upgrade refuses the option (parallelism.test.ts)`);
    const { jobId: v1JobId } = await run(activities(slowFlink.flink).deployJob, { deployment: version('v1'), deployToken: `${JOB}/${Date.now()}` });
    for (const table of TABLES) await grows(q(table), 100);
    const writerB = (await vertices(v1JobId)).find((v) => v.name.startsWith(`Writer : ${TABLES[1]}`))!;
    expect(writerB, 'the writer of par_jar_b is a vertex of its own').toBeDefined();

    // A v2 that writes only par_jar_a: its graph has no vertex for par_jar_b's writer, whose state
    // (its commit user, the committer's pending commits) would map to nothing.
    const narrow = version('v2', [TABLES[0]!]);
    const refused = await upgrade(version('v1'), narrow, {});
    const refusal = await refusalOf(refused.result());
    expect(refusal.type).toBe('DeploymentCheckFailed');
    // Without uids every operator's id hashes its place in the graph: with one output fewer the
    // source keeps its id, but all four sink vertices are renamed, and each is named.
    expect(refusal.message).toContain("checked before anything is stopped: v2's job graph does not have ");
    expect(refusal.message).toContain(`${writerB.id} (Writer : ${TABLES[1]})`);
    expect(refusal.message).toContain('set allowNonRestoredState (--allow-non-restored-state) to drop that state for good');
    expect(await activitiesRun(refused)).not.toContain('stopWithSavepoint');
    expect(await jobState(v1JobId)).toBe('RUNNING');
    // Asked to drop it, the plan names what is dropped (read only: nothing is stopped here).
    const shape = await run(activities(slowFlink.flink).planUpgradeShape, { jobId: v1JobId, newVersion: narrow, allowNonRestoredState: true });
    expect(shape.stateCheck.checked).toBe(true);
    expect(shape.stateCheck.unclaimed).toContainEqual({ id: writerB.id, name: `Writer : ${TABLES[1]}` });
    expect(shape.stateCheck.text).toContain('allowNonRestoredState is set: the state of ');
    expect(shape.stateCheck.text).toContain(`${writerB.id} (Writer : ${TABLES[1]})`);
    expect(shape.stateCheck.text).toContain('will be DROPPED for good');

    const up: UpgradeResult = await (await upgrade(version('v1'), version('v2'), { parallelism: 2 })).result();
    expect(up.status, up.reason).toBe('upgraded');
    expect(up.stateCheck).toBe("every vertex with state in the latest checkpoint is in v2's job graph.");
    const running = await vertices(up.newJobId!);
    expect(Object.fromEntries(running.map((v) => [v.id, v.parallelism]))).toEqual(Object.fromEntries(up.parallelism!.map((v) => [v.id, v.to])));
    // Source and both writers at 2; each committer (max parallelism 1) kept at 1.
    expect(running.map((v) => `${v.name.split(/[ :]/)[0]}:${v.parallelism}`).sort()).toEqual(['Global:1', 'Global:1', 'Source:2', 'Writer:2', 'Writer:2']);
    for (const table of TABLES) await grows(q(table), 150);

    const back: UpgradeResult = await (await upgrade(version('v2'), version('v1'), { parallelism: 1 })).result();
    expect(back.status, back.reason).toBe('upgraded');
    expect((await vertices(back.newJobId!)).every((v) => v.parallelism === 1)).toBe(true);

    await until('v1 to finish the sequence', 400_000, async () => ((await jobState(back.newJobId!)) === 'FINISHED' ? true : undefined));
    for (const table of TABLES) await checkExactlyOnce(q(table), LAST_ID, up.tag!, back.tag!);
  }, 900_000);
});
