// How a refusal reaches the user: the failure type and message at the root of a failed workflow
// (what `savepointctl --wait` prints), and which activities the workflow ran before refusing.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

export interface Refusal {
  /** the ApplicationFailure's type, e.g. 'JobNotFound' */
  type: string | undefined;
  message: string;
}

/** The root ApplicationFailure of a failed workflow result, or the error itself if it is not one. */
export async function refusalOf(result: Promise<unknown>): Promise<Refusal> {
  const err = await result.then(
    (value) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  let root: ApplicationFailure | undefined;
  while (cause instanceof Error) {
    if (cause instanceof ApplicationFailure) root = cause;
    cause = cause.cause;
  }
  if (root) return { type: root.type ?? undefined, message: root.message };
  return { type: (err as Error).name, message: (err as Error).message };
}

/** The activity types a workflow run scheduled, in order. */
export async function activitiesRun(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

/** Activities that read only: a refusal may run these and nothing else. */
export const READ_ONLY_ACTIVITIES = new Set([
  'resolveJob',
  'getJob',
  'describeSinkTables',
  'checkFlinkCluster',
  'listRestorePoints',
  'listTags',
  'tableState',
  'inspectSavepoint',
]);
