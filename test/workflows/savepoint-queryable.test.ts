// A scheduled savepoint whose table check waits (a Paimon read waiting for a task slot) still
// answers queries (#17 item 4): the check is a scheduled activity, not a local one that would hold
// the workflow task. Fake activities on a real dev server; no Flink behaviour is claimed here.
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { TableRef } from '../../src/domain/model';
import { fakeJob } from '../support/restore-point-fakes';
import { scheduledActivities } from '../support/replay';
import { operationWorkflowId } from '../../workflows/messages';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';

const TABLES: TableRef[] = ['demo.seq_a', 'demo.seq_b'];
// Shorter than the workflow task's heartbeat (8 s of its 10 s timeout): a local activity in flight
// lets a query through only at that heartbeat, so with one the answer would come after the check.
const CHECK_WAITS_MS = 5_000;

describe('takeSavepointWorkflow while its table check waits', () => {
  const temporal = useWorkflowTestEnv();

  it('answers a query while the check still waits, and schedules the check and the record as activities', async () => {
    const jobName = unique('queryable-job');
    const fake = fakeJob(jobName);
    let checkStarted!: () => void;
    const started = new Promise<void>((resolve) => (checkStarted = resolve));
    let checkDone = false;
    const describeSinkTables: typeof fake.activities.describeSinkTables = async (input) => {
      checkStarted();
      await new Promise((r) => setTimeout(r, CHECK_WAITS_MS));
      checkDone = true;
      return fake.activities.describeSinkTables(input);
    };
    const taskQueue = unique('queryable');
    const worker = await Worker.create({
      connection: temporal.env.nativeConnection,
      taskQueue,
      workflowBundle: temporal.bundle,
      activities: { ...fake.activities, describeSinkTables },
    });
    await worker.runUntil(async () => {
      const handle = await temporal.env.client.workflow.start('takeSavepointWorkflow', {
        taskQueue,
        workflowId: unique('queryable-savepoint'),
        args: [{ job: { jobName }, tables: TABLES, options: { tagTimeout: '30s' } }],
      });
      await started;
      // The run started under its own id takes the savepoint as its child under the job's operation id.
      const savepoint = temporal.env.client.workflow.getHandle(operationWorkflowId({ jobName }));
      // Every workflow answers the built-in stack-trace query; a local activity in flight would hold it.
      const stack = await savepoint.query<string>('__stack_trace');
      expect({ answeredWhileTheCheckWaits: !checkDone }).toEqual({ answeredWhileTheCheckWaits: true });
      expect(stack).toContain('checkJobAndTables');
      await handle.result();
      const names = scheduledActivities(await savepoint.fetchHistory()).names;
      expect(names).toEqual(expect.arrayContaining(['describeSinkTables', 'recordRestorePoint']));
      expect(names).not.toContain('resolveJob'); // the Flink REST lookups stay local
    });
  }, 60_000);
});
