// Finding the live job an earlier attempt of a SQL deploy started. Flink reports a job's user
// config (where our deploy-id marker is) only per job, one GET /jobs/:id/config each, so the
// lookup first narrows the cluster's jobs to those that can be ours: a job submitted through the
// SQL gateway is named after the session's `pipeline.name`.
import type { FlinkClient } from './client';
import { TERMINAL_STATES } from './jobs';

/** At most this many GET /jobs/:id/config in flight, so a busy cluster is not flooded. */
const CONFIG_LOOKUPS_AT_ONCE = 8;

const SET_PIPELINE_NAME = /^SET\s+'pipeline\.name'\s*=\s*'((?:[^']|'')*)'$/i;

/**
 * The name the script gives its job: the value of the last `SET 'pipeline.name' = '...'` before
 * the job statement. Undefined when the script does not set it (Flink then makes up a name such
 * as `insert-into_...`) or touches it in a form we do not read (e.g. RESET): then every live job
 * is a candidate.
 */
export function pipelineNameOf(statements: string[], isJobStatement: (s: string) => boolean): string | undefined {
  let name: string | undefined;
  for (const statement of statements) {
    if (isJobStatement(statement)) break;
    if (!/pipeline\.name/i.test(statement)) continue;
    const set = SET_PIPELINE_NAME.exec(statement);
    if (!set) return undefined;
    name = set[1]!.replace(/''/g, "'");
  }
  return name;
}

/** The live job whose user config carries `marker` = `deployId`: only jobs named `jobName` when it is known. */
export async function liveJobWithMarker(
  flink: FlinkClient,
  marker: string,
  deployId: string,
  jobName: string | undefined,
): Promise<string | undefined> {
  const { jobs } = await flink.jobsOverview();
  const candidates = jobs.filter((j) => !TERMINAL_STATES.has(j.state) && (jobName === undefined || j.name === jobName));
  for (let i = 0; i < candidates.length; i += CONFIG_LOOKUPS_AT_ONCE) {
    const configs = await Promise.all(
      // A job that ended between the overview and its config is no earlier attempt to return.
      candidates.slice(i, i + CONFIG_LOOKUPS_AT_ONCE).map((j) => flink.jobConfig(j.jid).catch(() => undefined)),
    );
    const ours = configs.find((c) => c?.['execution-config']?.['user-config'][marker] === deployId);
    if (ours) return ours.jid;
  }
  return undefined;
}
