// Deploying a version as an application: a cluster of its own, started from the savepoint by the
// target's launcher. The artifact is checked on the worker first (a jar that is a file, a script
// that starts exactly one job), so a bad version fails before any launcher runs; the launch is
// recorded so the job's id leads to its cluster from then on.
import { Context } from '@temporalio/activity';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Deployment } from '../../src/domain/model';
import { FailureType, fatal } from '../errors';
import type { DeployParallelism } from '../contract';
import { isJobStatement, readStatements } from '../flink/deploy';
import { pipelineNameOf } from '../flink/earlier-deploy';
import type { LaunchRegistry } from './registry';
import type { Launched, TargetDriver } from './target';

export interface ApplicationDeploy {
  deployment: Deployment;
  launcher: 'local' | 'command';
  deployToken: string;
  deployId: string;
  jobName?: string;
  savepointPath?: string;
  allowNonRestoredState: boolean;
  parallelism?: DeployParallelism;
}

/** The version's file for the launcher (an inline script written to one), and the job's name. */
async function artifactOf(registry: LaunchRegistry, request: Omit<ApplicationDeploy, 'savepointPath' | 'allowNonRestoredState'>) {
  const { deployment } = request;
  if (deployment.kind === 'jar') {
    const artifact = deployment.jarFile;
    const isFile = await stat(artifact).then((s) => s.isFile(), () => false);
    if (!isFile) throw fatal(FailureType.InvalidInput, `deploying jar ${artifact} (${deployment.version}): no such file on the worker. Check jarFile.`);
    return { artifact, jobName: request.jobName ?? deployment.version };
  }
  const statements = await readStatements(deployment);
  const jobName = request.jobName ?? pipelineNameOf(statements, isJobStatement) ?? deployment.version;
  if (deployment.scriptFile) return { artifact: path.resolve(deployment.scriptFile), jobName };
  // An inline script becomes a file the launcher can hand to the runner.
  await mkdir(registry.dir, { recursive: true });
  const artifact = path.join(registry.dir, `${request.deployId}.sql`);
  await writeFile(artifact, deployment.script!);
  return { artifact, jobName };
}

/**
 * Before the old version stops: the new version's cluster set up as far as the target can without
 * the savepoint (the local launcher: its TaskManager started), so less of the launch falls in the
 * job's downtime. Nothing for a target without it, or a version already launched.
 */
export async function prepareApplication(
  driver: TargetDriver,
  registry: LaunchRegistry,
  request: Omit<ApplicationDeploy, 'savepointPath' | 'allowNonRestoredState'>,
): Promise<{ prepared: boolean }> {
  if (!driver.prepare || (await registry.byDeployId(request.deployId))) return { prepared: false };
  const { artifact, jobName } = await artifactOf(registry, request);
  await driver.prepare({ jobName, deployment: request.deployment, deployToken: request.deployToken, deployId: request.deployId, artifact, parallelism: request.parallelism });
  return { prepared: true };
}

export async function deployApplication(driver: TargetDriver, registry: LaunchRegistry, request: ApplicationDeploy): Promise<Launched> {
  const { deployment } = request;
  const earlier = await registry.byDeployId(request.deployId);
  if (earlier) return { jobId: earlier.jobId, restUrl: earlier.restUrl };
  const { artifact, jobName } = await artifactOf(registry, request);
  // Clusters whose job ended (the version just stopped with its savepoint, a cancelled one) are
  // stopped before the launch, or once it is over where the target allows (the local launcher):
  // stopping JVMs then neither lengthens the new version's downtime nor takes the CPU its start
  // needs. Either way the deploy returns only once the reap is over, so nothing ended is left
  // behind by a deploy that returned.
  if (!driver.reapsAfterLaunch) await driver.reap();
  // A cluster takes a minute or more to start and plan the job: heartbeat meanwhile, so the activity
  // is not timed out and retried while the first launch is still under way.
  const context = Context.current();
  const beat = () => context.heartbeat({ deployId: request.deployId, step: 'launching' });
  beat();
  const beating = setInterval(beat, 10_000);
  let launched: Launched;
  try {
    launched = await driver.launch({
      jobName,
      deployment,
      deployToken: request.deployToken,
      deployId: request.deployId,
      artifact,
      savepointPath: request.savepointPath,
      allowNonRestoredState: request.allowNonRestoredState,
      parallelism: request.parallelism,
    });
  } catch (err) {
    // The ended clusters are stopped after a failed launch too; the launch's error is the one reported.
    if (driver.reapsAfterLaunch) await driver.reap(request.deployId).catch(() => undefined);
    throw err;
  } finally {
    clearInterval(beating);
  }
  await registry.record({
    jobName,
    launcher: request.launcher,
    deployToken: request.deployToken,
    deployId: request.deployId,
    version: deployment.version,
    jobId: launched.jobId,
    restUrl: launched.restUrl,
    launchedAt: new Date().toISOString(),
  });
  if (driver.reapsAfterLaunch) await driver.reap(request.deployId);
  return launched;
}
