// The tag guard before a savepoint reads every sink table's tags at once: each read is a short
// batch job on the cluster, and reading them one after another put one per table on the upgrade's path.
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { startUpgrade } from '../../src/client/start-upgrade';
import { FakeStack } from '../support/fake-stack';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { TABLES, upgradeInput } from './fixtures';

const temporal = useWorkflowTestEnv();

describe('tag guard', () => {
  it("reads every sink table's tags side by side, then stops the job", async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const activities = stack.activities();
    let inFlight = 0;
    let mostAtOnce = 0;
    const listTags: typeof activities.listTags = async (input) => {
      inFlight++;
      mostAtOnce = Math.max(mostAtOnce, inFlight);
      try {
        // Long enough for the other table's read to start if it was scheduled in the same workflow task.
        await new Promise((resolve) => setTimeout(resolve, 300));
        return await activities.listTags(input);
      } finally {
        inFlight--;
      }
    };
    const taskQueue = unique('tag-guard');
    const worker = await Worker.create({
      connection: temporal.env.nativeConnection,
      namespace: temporal.env.namespace ?? 'default',
      taskQueue,
      workflowBundle: temporal.bundle,
      activities: { ...activities, listTags },
    });
    const result = await worker.runUntil(async () => (await startUpgrade(temporal.env.client, upgradeInput(jobName), { taskQueue })).result());

    expect(result.status).toBe('upgraded');
    expect(stack.callsOf('listTags').map((c) => c.table).sort()).toEqual([...TABLES].sort());
    expect(mostAtOnce).toBe(TABLES.length);
    expect(stack.callNames().indexOf('stopWithSavepoint')).toBeGreaterThan(stack.callNames().lastIndexOf('listTags'));
  });
});
