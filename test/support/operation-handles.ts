// What the real-stack suites do with a running upgrade or restore: wait for its result through a
// Temporal server that restarts, and end it after a failed test so a rerun can start one.
import type { Client, WorkflowHandle } from '@temporalio/client';

/** The workflow's result, waiting through a Temporal server that is away for a while. */
export async function resultThroughRestarts<T>(handle: WorkflowHandle, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await handle.result()) as T;
    } catch (err) {
      const unavailable = /UNAVAILABLE|ECONNREFUSED|connect|deadline/i.test(String((err as Error)?.message));
      if (!unavailable || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** After a failed test: end the workflow if it still runs, so a rerun can start one. */
export async function terminateIfRunning(client: Client, workflowId: string, reason: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  const { status } = await handle.describe().catch(() => ({ status: { name: 'NOT_FOUND' } }));
  if (status.name === 'RUNNING') await handle.terminate(reason);
}
