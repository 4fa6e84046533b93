// Before an upgrade stops anything: how the new version's job graph is built and at which
// parallelism its vertices run (activities/flink/parallelism.ts), and whether it claims the state
// the running job keeps. Changes nothing: a jar is uploaded for its plan and deleted.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Config } from '../../src/config/config';
import { DeploymentSchema, JobIdSchema, type Deployment } from '../../src/domain/model';
import type { StateCheck, UpgradeShape } from '../contract';
import { parallelismRefusal } from '../compat';
import { FailureType, fatal } from '../errors';
import { HttpStatusError } from '../http';
import { splitSqlScript } from '../sql-gateway/script';
import type { FlinkClient } from './client';
import { deploymentFileInside } from './deployment-files';
import { parseInput } from './inputs';
import { readJobShape, shapeAsDeployed } from './job-parallelism';
import { defaultParallelismSetBy, planParallelism, type RunningVertex } from './parallelism';

const ParallelismSchema = z.number().int().min(1).max(32768);

export const PlanUpgradeShapeInput = z.object({
  jobId: JobIdSchema,
  newVersion: DeploymentSchema,
  parallelism: ParallelismSchema.optional(),
  vertexParallelism: z.record(z.string().regex(/^[0-9a-f]{32}$/), ParallelismSchema).optional(),
  allowNonRestoredState: z.boolean().default(false),
});

/** GET /jobs/:jobid/checkpoints and /checkpoints/details/:id: which vertices keep state. */
const LatestCompleted = z.object({ latest: z.object({ completed: z.object({ id: z.number() }).nullish() }) });
const CheckpointTasks = z.object({
  tasks: z.record(z.string(), z.object({ state_size: z.number().optional(), checkpointed_size: z.number().optional() })).default({}),
});

export async function planUpgradeShape(flink: FlinkClient, config: Pick<Config, 'deployments'>, input: unknown): Promise<UpgradeShape> {
  const request = parseInput('planUpgradeShape', PlanUpgradeShapeInput, input);
  const shape = await readJobShape(flink, request.jobId);
  const { vertices, graphParallelism } = shape;
  const problems: string[] = [];

  let parallelism: UpgradeShape['parallelism'];
  if (request.parallelism !== undefined || request.vertexParallelism !== undefined) {
    const planned = planParallelism(vertices as RunningVertex[], request);
    const refusal = parallelismRefusal((await flink.config())['flink-version']);
    if (refusal !== undefined) problems.push(refusal);
    else if (!planned.ok) problems.push(...planned.problems);
    else parallelism = { graphParallelism, overrides: planned.overrides, vertices: planned.vertices };
  }

  const newVersion = request.newVersion;
  if (newVersion.kind === 'sql') {
    const set = defaultParallelismSetBy(await statementsOf(config, newVersion));
    if (set !== undefined && set !== graphParallelism && !request.allowNonRestoredState) {
      problems.push(
        `${newVersion.version} sets 'parallelism.default' = '${set}' while the running job's graph was built at ${graphParallelism}: ` +
          'a SQL job has no operator uids, so Flink names its operators by their place in the graph, and a parallelism that ' +
          "changes which operators are chained (Paimon's committer always runs at 1) renames them and leaves their savepoint " +
          "state unclaimed. Remove the SET and ask for the parallelism with the upgrade's parallelism option " +
          '(--parallelism), which keeps the graph and sets each vertex',
      );
    }
  }
  // With a parallelism plan the deploy builds a jar's graph at the running job's parallelism, whatever the jar says.
  const asDeployed: Deployment = parallelism && newVersion.kind === 'jar' ? { ...newVersion, parallelism: graphParallelism } : newVersion;
  const stateCheck = await checkState(flink, config, request, asDeployed, vertices, graphParallelism);
  if (stateCheck.unclaimed && stateCheck.unclaimed.length > 0 && !request.allowNonRestoredState) problems.push(stateCheck.text);
  if (problems.length > 0) {
    throw fatal(FailureType.DeploymentCheckFailed, `checked before anything is stopped: ${problems.join('; ')}. Nothing was changed.`);
  }
  return { ...(parallelism ? { parallelism } : {}), running: shapeAsDeployed(shape), stateCheck };
}

async function statementsOf(config: Pick<Config, 'deployments'>, sql: Extract<Deployment, { kind: 'sql' }>): Promise<string[]> {
  let text = sql.script;
  if (text === undefined) {
    // checkDeployments ran first and named any bad path or unreadable file.
    const found = await deploymentFileInside(config.deployments.root, sql.scriptFile!);
    if (!found.ok) return [];
    text = await readFile(found.realPath, 'utf8').catch(() => '');
  }
  try {
    return splitSqlScript(text);
  } catch {
    return [];
  }
}

/**
 * The vertices of the running job whose latest completed checkpoint holds state, against the
 * vertices of the new job graph. Flink maps state by operator id; its REST API names only each
 * vertex's first operator, so this compares vertices: a stateful vertex whose id the new graph
 * lacks has its operators renamed (without uids an operator's id hashes its place and its inputs),
 * unless its stateful operators carry uids of their own.
 */
async function checkState(
  flink: FlinkClient,
  config: Pick<Config, 'deployments'>,
  request: z.output<typeof PlanUpgradeShapeInput>,
  newVersion: Deployment,
  vertices: { id: string; name: string }[],
  graphParallelism: number,
): Promise<StateCheck> {
  const dropping = request.allowNonRestoredState
    ? ` allowNonRestoredState is set: state ${newVersion.version} does not claim is DROPPED for good when it starts.`
    : '';
  if (newVersion.kind === 'sql') {
    return {
      checked: false,
      text:
        `state not checked before the stop: Flink builds a SQL job's graph, and so its operator ids, only when it runs the job. ` +
        `When ${newVersion.version} starts, Flink refuses savepoint state it cannot map and the old version runs again from the savepoint.${dropping}`,
    };
  }
  const stateful = await statefulVertices(flink, request.jobId);
  if (stateful === undefined) {
    return { checked: false, text: `state not checked before the stop: the running job has no completed checkpoint to compare with.${dropping}` };
  }
  const found = await deploymentFileInside(config.deployments.root, newVersion.jarFile);
  if (!found.ok) throw fatal(FailureType.DeploymentCheckFailed, `checked before anything is stopped: ${newVersion.version}: ${found.problem}. Nothing was changed.`);
  const newIds = await jarVertexIds(flink, { ...newVersion, jarFile: found.realPath }, graphParallelism);
  const unclaimed = vertices
    .filter((v) => stateful.has(v.id) && !newIds.has(v.id))
    .map((v) => ({ id: v.id, name: v.name.replace(/<br\/>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120) }));
  if (unclaimed.length === 0) {
    return { checked: true, text: `every vertex with state in the latest checkpoint is in ${newVersion.version}'s job graph.${dropping}`, unclaimed: [] };
  }
  const named = unclaimed.map((u) => `${u.id} (${u.name})`).join('; ');
  return {
    checked: true,
    unclaimed,
    text: request.allowNonRestoredState
      ? `allowNonRestoredState is set: the state of ${named}, which ${newVersion.version}'s job graph does not have, will be DROPPED for good`
      : `${newVersion.version}'s job graph does not have ${named}, which hold state in the latest checkpoint: Flink would refuse to start it ` +
        'from the savepoint. Give the stateful operators the same uid in both versions, or set allowNonRestoredState ' +
        '(--allow-non-restored-state) to drop that state for good',
  };
}

async function statefulVertices(flink: FlinkClient, jobId: string): Promise<Set<string> | undefined> {
  const { latest } = await flink.http.json('GET', `/jobs/${jobId}/checkpoints`, LatestCompleted);
  if (!latest.completed) return undefined;
  const { tasks } = await flink.http.json('GET', `/jobs/${jobId}/checkpoints/details/${latest.completed.id}`, CheckpointTasks);
  return new Set(Object.entries(tasks).filter(([, t]) => (t.state_size ?? t.checkpointed_size ?? 0) > 0).map(([id]) => id));
}

/** The new jar's job graph built at the running job's parallelism (vertex ids depend on it). */
async function jarVertexIds(flink: FlinkClient, jar: Extract<Deployment, { kind: 'jar' }>, graphParallelism: number): Promise<Set<string>> {
  const jarId = await flink.uploadJar(jar.jarFile);
  try {
    const { plan } = await flink.jarPlan(jarId, {
      entryClass: jar.entryClass,
      programArgsList: jar.args,
      parallelism: jar.parallelism ?? graphParallelism,
    });
    return new Set(plan.nodes.map((n) => n.id));
  } catch (err) {
    if (err instanceof HttpStatusError && err.status >= 400 && err.status <= 500) {
      throw fatal(FailureType.DeploymentCheckFailed, `checked before anything is stopped: ${jar.version} does not build a job: ${err.detail}. Nothing was changed.`);
    }
    throw err;
  } finally {
    await flink.deleteJar(jarId).catch(() => undefined);
  }
}
