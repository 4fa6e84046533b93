// The local launcher: Flink's standalone application mode on the worker's machine, one JobManager
// and one TaskManager per version, on free ports (scripts/app-cluster.sh). What the tests run, and
// what `npm start` users can try application mode with.
import type { ApplicationModeConfig } from '../../src/config/application-mode';
import { overridesOption } from '../flink/parallelism';
import { log } from '@temporalio/activity';
import { runLauncher, runQuiet } from './launcher-process';
import type { LaunchRequest, TargetDriver } from './target';

export function localTarget(config: ApplicationModeConfig): TargetDriver {
  const env = { ...process.env, STACK_HOME: config.stackHome };
  return {
    // The same machine holds the ended cluster and the starting one until the launch is over; a reap
    // never stops a cluster whose job is not terminal, so never the one just launched.
    reapsAfterLaunch: true,
    launch(request) {
      return runLauncher({
        attempted: `launching ${request.deployment.version} of job '${request.jobName}' (local launcher)`,
        file: 'bash',
        args: [config.localLauncher, 'start', ...localArgs(request)],
        env,
        timeoutMs: config.launchTimeoutMs,
      });
    },
    async prepare(request) {
      const prepared = await runQuiet('bash', [config.localLauncher, 'prepare', ...localArgs({ ...request, savepointPath: undefined, allowNonRestoredState: false })], env, 60_000);
      if (!prepared.ok) throw new Error(`preparing the cluster of ${request.deployment.version} (local launcher) failed: ${prepared.output}`);
    },
    async release(deployId) {
      const released = await runQuiet('bash', [config.localLauncher, 'release', '--token', deployId], env, 60_000);
      if (!released.ok) throw new Error(`releasing the prepared cluster ${deployId} (local launcher) failed: ${released.output}`);
    },
    async reap(exceptDeployId) {
      const except = exceptDeployId ? ['--except', exceptDeployId] : [];
      const reaped = await runQuiet('bash', [config.localLauncher, 'reap', ...except], env, 120_000);
      // A reap that failed leaves ended clusters for the next one, or for `stack.sh down`: the launch goes on.
      if (!reaped.ok) log.warn('reaping ended application clusters failed', { output: reaped.output });
    },
  };
}

/** app-cluster.sh start's flags for a launch request. */
export function localArgs(request: LaunchRequest): string[] {
  const { deployment, parallelism } = request;
  const args = ['--token', request.deployId, '--name', request.jobName];
  if (deployment.kind === 'sql') args.push('--sql-file', request.artifact);
  else {
    args.push('--jar', request.artifact);
    if (deployment.entryClass) args.push('--entry-class', deployment.entryClass);
    for (const arg of deployment.args) args.push('--program-arg', arg);
  }
  if (request.savepointPath) args.push('--savepoint', request.savepointPath);
  const graph = parallelism?.graphParallelism ?? (deployment.kind === 'jar' ? deployment.parallelism : undefined);
  if (graph !== undefined) args.push('--parallelism', String(graph));
  if (parallelism && Object.keys(parallelism.overrides).length > 0) {
    args.push('--vertex-parallelism', overridesOption(parallelism.overrides));
    args.push('--slots', String(Math.max(graph ?? 1, ...Object.values(parallelism.overrides))));
  }
  if (request.allowNonRestoredState) args.push('--allow-non-restored-state');
  return args;
}
