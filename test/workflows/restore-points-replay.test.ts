// Replays recorded histories of takeSavepointWorkflow and retentionWorkflow against today's code,
// so a change that would break runs in flight (scheduled savepoints run unattended for months)
// fails here with a DeterminismViolationError. `RECORD_HISTORIES=1 npx vitest run
// test/workflows/restore-points-replay.test.ts` re-records; do that only for an intended,
// compatible change, and commit the histories with it. These runs were recorded under ids of their
// own before 'savepoint-holds-operation-id' / 'retention-holds-operation-id': re-recorded today, such
// a run would only start its work as a child under flink-job/<job>. The branches of those patches
// are recorded, and replayed under the ids they ran under, by one-operation-replay.test.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import type { Activities } from '../../activities/contract';
import type { TableRef } from '../../src/domain/model';
import { historyToJson } from '../support/history-json';
import { recordedHistories, replayAll, replayBundle, scheduledActivities } from '../support/replay';
import { DAY, fakeCatalog, fakeJob, point } from '../support/restore-point-fakes';
import { unique } from '../support/temporal-env';

const HISTORIES_DIR = path.join(__dirname, 'histories-restore-points');
/**
 * Savepoint runs recorded before their short steps became local activities (patch
 * 'savepoint-short-steps-local'): runs of that code may still be in flight, so they must replay too.
 * Never re-recorded.
 */
const BEFORE_SHORT_STEPS_LOCAL_DIR = path.join(HISTORIES_DIR, 'before-short-steps-local');
/**
 * Savepoint runs recorded with every short step local, Paimon reads included (before patch
 * 'savepoint-paimon-reads-scheduled'). Never re-recorded.
 */
const BEFORE_PAIMON_READS_SCHEDULED_DIR = path.join(HISTORIES_DIR, 'before-paimon-reads-scheduled');
/**
 * Recorded before retention asked which points the operation in flight uses and let upgrade pins
 * expire (patches 'retention-upgrade-pin-lifecycle', 'retention-when-savepoint-fails'). Never re-recorded.
 */
const BEFORE_UPGRADE_PIN_LIFECYCLE_DIR = path.join(HISTORIES_DIR, 'before-upgrade-pin-lifecycle');
/** Savepoint runs recorded before patch 'savepoint-checks-job-writes-tables' read the job's plan. Never re-recorded. */
const BEFORE_SAVEPOINT_CHECKS_WRITER_DIR = path.join(HISTORIES_DIR, 'before-savepoint-checks-writer');
const TABLES: TableRef[] = ['demo.seq_a', 'demo.seq_b'];

interface Scenario {
  name: string;
  workflowType: 'takeSavepointWorkflow' | 'retentionWorkflow';
  activities(jobName: string): Partial<Activities>;
  input(jobName: string): unknown;
}

const threePoints = () => [point(1, 3 * DAY), point(2, 2 * DAY), point(3, DAY)];

const scenarios: Scenario[] = [
  {
    name: 'savepoint-restorable',
    workflowType: 'takeSavepointWorkflow',
    activities: (jobName) => fakeJob(jobName).activities,
    input: (jobName) => ({ job: { jobName }, tables: TABLES, options: { label: 'nightly' } }),
  },
  {
    name: 'savepoint-tag-missing',
    workflowType: 'takeSavepointWorkflow',
    activities: (jobName) => fakeJob(jobName, { tagNeverOn: ['demo.seq_b'] }).activities,
    input: (jobName) => ({ job: { jobName }, tables: TABLES, options: { tagTimeout: '5s' } }),
  },
  {
    name: 'savepoint-then-retention',
    workflowType: 'takeSavepointWorkflow',
    activities: (jobName) => ({ ...fakeJob(jobName).activities, ...fakeCatalog(threePoints()).activities }),
    input: (jobName) => ({ job: { jobName }, tables: TABLES, retention: { keepLast: 2 } }),
  },
  {
    name: 'retention-deletes',
    workflowType: 'retentionWorkflow',
    activities: () => fakeCatalog(threePoints(), { pinnedMeanwhile: [1], disposeFails: [2] }).activities,
    input: (jobName) => ({ jobName, policy: { keepLast: 1 } }),
  },
  {
    name: 'retention-dry-run',
    workflowType: 'retentionWorkflow',
    activities: () => fakeCatalog(threePoints()).activities,
    input: (jobName) => ({ jobName, policy: { keepLast: 1 }, dryRun: true }),
  },
];

async function record(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap): Promise<void> {
  await mkdir(HISTORIES_DIR, { recursive: true });
  for (const scenario of scenarios) {
    const jobName = unique('recorded');
    const taskQueue = unique('replay');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: scenario.activities(jobName),
    });
    const history = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(scenario.workflowType, {
        taskQueue,
        workflowId: unique(scenario.name),
        args: [scenario.input(jobName)],
      });
      await handle.result();
      return handle.fetchHistory();
    });
    await writeFile(path.join(HISTORIES_DIR, `${scenario.name}.json`), `${JSON.stringify(historyToJson(history), null, 2)}\n`);
  }
}

const recorded = () => recordedHistories(HISTORIES_DIR);

describe('recorded savepoint and retention histories', () => {
  const bundle = replayBundle(record);

  it('has a history for every scenario', async () => {
    expect((await recorded()).map((h) => h.workflowId)).toEqual(scenarios.map((s) => s.name).sort());
  });

  it('replay without a determinism error on the current workflow code', async () => {
    const histories = await recorded();
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('recorded before the short steps became local activities: replay on the old branch', async () => {
    const histories = await recordedHistories(BEFORE_SHORT_STEPS_LOCAL_DIR);
    expect(histories.map((h) => h.workflowId)).toEqual(['savepoint-restorable', 'savepoint-tag-missing', 'savepoint-then-retention']);
    // These scheduled every check as an activity; the current ones record them as markers.
    expect(scheduledActivities(histories[0]!.history).names).toContain('resolveJob');
    expect(scheduledActivities((await recorded()).find((h) => h.workflowId === 'savepoint-restorable')!.history).names).not.toContain('resolveJob');
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('recorded while the Paimon reads were local activities: replay on that branch', async () => {
    const histories = await recordedHistories(BEFORE_PAIMON_READS_SCHEDULED_DIR);
    expect(histories.map((h) => h.workflowId)).toEqual(['savepoint-restorable', 'savepoint-tag-missing', 'savepoint-then-retention']);
    // Those read the tables as a marker; the current ones schedule the read, and keep the REST lookups local.
    expect(scheduledActivities(histories[0]!.history).names).not.toContain('describeSinkTables');
    const current = scheduledActivities((await recorded()).find((h) => h.workflowId === 'savepoint-restorable')!.history).names;
    expect(current).toEqual(expect.arrayContaining(['describeSinkTables', 'recordRestorePoint']));
    expect(current).not.toContain('resolveJob');
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('recorded before the upgrade-pin lifecycle: replay on that branch', async () => {
    const histories = await recordedHistories(BEFORE_UPGRADE_PIN_LIFECYCLE_DIR);
    expect(histories.map((h) => h.workflowId)).toEqual(scenarios.map((s) => s.name).sort());
    expect(scheduledActivities(histories.find((h) => h.workflowId === 'retention-deletes')!.history).names).not.toContain('restorePointsInUse');
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('recorded before the savepoint read the job\'s plan for the tables it writes: replay on that branch', async () => {
    const histories = await recordedHistories(BEFORE_SAVEPOINT_CHECKS_WRITER_DIR);
    expect(histories.map((h) => h.workflowId)).toEqual(['savepoint-restorable', 'savepoint-tag-missing', 'savepoint-then-retention']);
    expect(scheduledActivities(histories[0]!.history).names).not.toContain('findTableJobs');
    expect(scheduledActivities((await recorded()).find((h) => h.workflowId === 'savepoint-restorable')!.history).names).toContain('findTableJobs');
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('would catch a change: retention that deleted the tag before marking the record fails to replay', async () => {
    const { history } = (await recorded()).find((h) => h.workflowId === 'retention-deletes')!;
    const activities = scheduledActivities(history);
    const mark = activities.names.indexOf('markRestorePointExpiring', 3);
    expect(activities.names.slice(0, 3)).toEqual(['listRestorePoints', 'restorePointsInUse', 'markRestorePointExpiring']);
    activities.rename(mark, 'deleteTag');
    await expect(Worker.runReplayHistory({ workflowBundle: bundle() }, history, 'tampered')).rejects.toThrow(
      DeterminismViolationError,
    );
  });
});
