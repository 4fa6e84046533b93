// Compensation, saga style (samples-typescript saga/src/workflows.ts): the undo of a step is
// registered right after the step succeeds and undos run newest first.
import { ApplicationFailure, CancellationScope, log } from '@temporalio/workflow';
import { WorkflowFailureType } from './messages';
import type { OperationStatus, Progress } from './progress';

export type Undo = () => Promise<void>;

export class Saga {
  private undos: Undo[] = [];

  constructor(
    private readonly progress: Pick<Progress<OperationStatus>, 'step' | 'snapshot'>,
    /** What is being undone, for the failure message. */
    private readonly operation = 'the upgrade',
  ) {}

  /** Register the undo of the step that just succeeded. */
  add(undo: Undo): void {
    this.undos.unshift(undo);
  }

  /** From here on a failure is left for a human: nothing is undone. */
  forget(): void {
    this.undos = [];
  }

  get isEmpty(): boolean {
    return this.undos.length === 0;
  }

  /**
   * Run every undo, newest first, even if the workflow is being cancelled. Undos are activities
   * with retries, so a worker restart resumes them. They stop at the first undo that fails for
   * good, since a later one may be unsafe without it (rolling a table back under a job that
   * still writes to it), and the failure says where they stopped.
   */
  async compensate(reason: string): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      for (const undo of this.undos) {
        try {
          await undo();
        } catch (err) {
          const step = this.progress.step;
          log.error('compensation failed', { step, reason });
          throw ApplicationFailure.create({
            type: WorkflowFailureType.CompensationFailed,
            nonRetryable: true,
            message:
              `${reason}; undoing ${this.operation} then failed at step '${step}': ${messageOf(err)}. ` +
              'Nothing after that step was undone: query the workflow status for the job ids, savepoint and tag.',
            details: [this.progress.snapshot()],
            cause: err instanceof Error ? err : undefined,
          });
        }
      }
    });
    this.undos = [];
  }
}

/** The innermost message: an ActivityFailure's own message is only "Activity task failed". */
export function messageOf(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
