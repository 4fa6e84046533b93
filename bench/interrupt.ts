// Ctrl-C during a benchmark: undo what is running (our workflow, our Flink jobs, child processes)
// before exiting, instead of leaving a v2 job or a half-done workflow on the shared stack.

const cleanups = new Set<() => Promise<unknown>>();

/** Registers an undo for an interrupt; returns its unregistration. */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function exitCleanlyOnInterrupt(log: (line: string) => void): void {
  let interrupted = false;
  const handler = (signal: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: cleaning up (send it again to quit at once)`);
    // Newest first: a workflow is terminated before the jobs it might still start are cancelled.
    const undo = [...cleanups].reverse();
    void (async () => {
      for (const cleanup of undo) await cleanup().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
      process.exit(130);
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
