// The command launcher: the platform's own way to start a version in a cluster of its own (kubectl
// apply of a FlinkDeployment with initialSavepointPath, helm upgrade, flink run-application -t
// yarn-application -s ...), configured as APP_LAUNCH_COMMAND and run with `bash -c`. It receives
// the launch in LAUNCH_* environment variables (README: application mode) and prints the new job's
// {"restUrl", "jobId"} as JSON on its last line.
import type { ApplicationModeConfig } from '../../src/config/application-mode';
import { FailureType, fatal } from '../errors';
import { overridesOption } from '../flink/parallelism';
import { log } from '@temporalio/activity';
import { runLauncher, runQuiet } from './launcher-process';
import type { LaunchRequest, TargetDriver } from './target';

export function commandTarget(config: ApplicationModeConfig): TargetDriver {
  return {
    // APP_REAP_COMMAND runs before each launch, as documented: the platform may need the old
    // cluster's resources for the new one.
    reapsAfterLaunch: false,
    launch(request) {
      const attempted = `launching ${request.deployment.version} of job '${request.jobName}' (command launcher)`;
      if (!config.launchCommand) {
        throw fatal(FailureType.DeployFailed, `${attempted}: APP_LAUNCH_COMMAND is not set on the worker; set it (README: application mode).`);
      }
      return runLauncher({
        attempted,
        file: 'bash',
        args: ['-c', config.launchCommand],
        env: { ...process.env, STACK_HOME: config.stackHome, ...launchEnv(request) },
        timeoutMs: config.launchTimeoutMs,
      });
    },
    async reap() {
      if (!config.reapCommand) return;
      const reaped = await runQuiet('bash', ['-c', config.reapCommand], { ...process.env, STACK_HOME: config.stackHome }, 120_000);
      if (!reaped.ok) log.warn('APP_REAP_COMMAND failed', { output: reaped.output });
    },
  };
}

/** The launch as the command sees it: every value a string, an absent one empty. */
export function launchEnv(request: LaunchRequest): Record<string, string> {
  const { deployment, parallelism } = request;
  const graph = parallelism?.graphParallelism ?? (deployment.kind === 'jar' ? deployment.parallelism : undefined);
  return {
    LAUNCH_JOB_NAME: request.jobName,
    LAUNCH_VERSION: deployment.version,
    LAUNCH_KIND: deployment.kind,
    LAUNCH_ARTIFACT: request.artifact,
    LAUNCH_ENTRY_CLASS: deployment.kind === 'jar' ? (deployment.entryClass ?? '') : '',
    LAUNCH_PROGRAM_ARGS: JSON.stringify(deployment.kind === 'jar' ? deployment.args : []),
    LAUNCH_SAVEPOINT: request.savepointPath ?? '',
    LAUNCH_ALLOW_NON_RESTORED_STATE: String(request.allowNonRestoredState),
    LAUNCH_PARALLELISM: graph === undefined ? '' : String(graph),
    LAUNCH_VERTEX_PARALLELISM: parallelism ? overridesOption(parallelism.overrides) : '',
    LAUNCH_DEPLOY_TOKEN: request.deployToken,
    LAUNCH_DEPLOY_ID: request.deployId,
  };
}
