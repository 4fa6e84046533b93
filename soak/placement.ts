// Where the soak's job runs (SOAK_TARGET): the session cluster everything shares, or a cluster of
// its own per version (application mode, through the local or the command launcher, as the
// workflows run it with a deployment target). The soak starts its first version, waits for its
// checkpoints, and stops what is left at the end here; every later version is started by the
// workflows, which are given the same target. Its checks read the tables, wherever the job runs.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { request } from 'undici';
import { createActivities } from '../activities';
import { LaunchRegistry } from '../activities/targets/registry';
import { loadApplicationModeConfig } from '../src/config/application-mode';
import { targetLabel, type DeploymentTarget } from '../src/domain/deployment-target';
import type { Deployment } from '../src/domain/model';
import { cancelJobsNamed } from '../test/support/demo-pipeline';
import { config, until } from '../test/support/stack';

const exec = promisify(execFile);

export interface JobPlacement {
  /** What the upgrade and restore inputs carry (undefined: session, the inputs as before). */
  target?: DeploymentTarget;
  label: string;
  /** Starts the first version with no savepoint; returns its job id. */
  startFirst(deployment: Deployment, jobName: string): Promise<string>;
  /** GET a Flink REST path on the cluster the job runs in. */
  get<T>(jobId: string, urlPath: string): Promise<T>;
  /** Until the job runs every task and has completed a checkpoint. */
  awaitCheckpointedRun(jobId: string, timeoutMs?: number): Promise<void>;
  /** Cancels every live job of ours (session) or stops every cluster launched for our job (application). */
  stopAll(jobName: string): Promise<void>;
  /** What a passed run leaves nowhere besides tables and savepoints: our launch records. */
  forget(jobName: string): Promise<void>;
}

/** SOAK_TARGET (session | application) and SOAK_LAUNCHER (local | command) as a deployment target. */
export function targetFrom(env: NodeJS.ProcessEnv): DeploymentTarget {
  const kind = env.SOAK_TARGET?.trim() || 'session';
  const launcher = env.SOAK_LAUNCHER?.trim() || 'local';
  if (kind === 'session') return { kind: 'session' };
  if (kind !== 'application') throw new Error(`SOAK_TARGET must be session or application, got '${kind}'`);
  if (launcher !== 'local' && launcher !== 'command') throw new Error(`SOAK_LAUNCHER must be local or command, got '${launcher}'`);
  if (launcher === 'command' && !env.APP_LAUNCH_COMMAND?.trim()) {
    throw new Error("SOAK_LAUNCHER=command needs APP_LAUNCH_COMMAND (e.g. 'bash scripts/launchers/local-command.sh')");
  }
  return { kind: 'application', launcher };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await request(url, { headersTimeout: 10_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

export function placementFor(target: DeploymentTarget = { kind: 'session' }): JobPlacement {
  const activities = createActivities(config);
  const deploy = async (input: unknown): Promise<string> => {
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    return ((await env.run(activities.deployJob, input as Parameters<typeof activities.deployJob>[0])) as { jobId: string }).jobId;
  };
  // The registry the worker's activities record launches in (APP_REGISTRY_DIR as they read it).
  const appMode = loadApplicationModeConfig(config.stackHome);
  const registry = new LaunchRegistry(appMode.registryDir);
  const restUrlOf = async (jobId: string): Promise<string> => {
    if (target.kind === 'session') return config.flink.restUrl;
    const launch = await registry.byJobId(jobId);
    if (!launch) throw new Error(`no launch of job ${jobId} in ${registry.dir}`);
    return launch.restUrl;
  };
  const get = async <T>(jobId: string, urlPath: string): Promise<T> => getJson<T>(`${await restUrlOf(jobId)}${urlPath}`);
  const ours = async (jobName: string) => (await registry.all()).filter((l) => l.jobName === jobName);

  return {
    target: target.kind === 'session' ? undefined : target,
    label: targetLabel(target),
    startFirst: (deployment, jobName) =>
      deploy(
        target.kind === 'session'
          ? { deployment, deployToken: `${jobName}/first` }
          : { deployment, deployToken: `${jobName}/first`, target, jobName },
      ),
    get,
    async awaitCheckpointedRun(jobId, timeoutMs = 180_000) {
      // Job details are cached up to web.refresh-interval, checkpoint counts 500 ms: both must say so.
      await until(`job ${jobId} to run every task and complete a checkpoint`, timeoutMs, async () => {
        const job = await get<{ state: string; vertices: { status: string }[] }>(jobId, `/jobs/${jobId}`).catch(() => undefined);
        if (job?.state !== 'RUNNING' || job.vertices.some((v) => v.status !== 'RUNNING' && v.status !== 'FINISHED')) return undefined;
        const cps = await get<{ counts: { completed: number } }>(jobId, `/jobs/${jobId}/checkpoints`).catch(() => undefined);
        return (cps?.counts.completed ?? 0) > 0 ? true : undefined;
      });
    },
    async stopAll(jobName) {
      if (target.kind === 'session') return cancelJobsNamed(jobName);
      // Every cluster of our job, by its launch's token. The command launcher's clusters are stopped
      // the same way: the soak runs it through scripts/launchers/local-command.sh, which drives the
      // local launcher with the same token; a platform's own command leaves them to the platform.
      for (const launch of await ours(jobName)) {
        await exec('bash', [appMode.localLauncher, 'stop', '--token', launch.deployId], {
          env: { ...process.env, STACK_HOME: config.stackHome },
        }).catch(() => undefined);
      }
    },
    async forget(jobName) {
      if (target.kind === 'session') return;
      for (const launch of await ours(jobName)) await rm(path.join(registry.dir, `${launch.deployId}.json`), { force: true });
    },
  };
}
