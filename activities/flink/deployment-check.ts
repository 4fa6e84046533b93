// Checks every version an operation may start, before anything is stopped: its script or jar is a
// readable file inside the deployments root; SQL sets nothing the operation owns
// (activities/sql-gateway/owned-settings.ts) and compiles against the live catalog to exactly one
// job writing exactly the declared sink tables; a jar's entry class builds a job graph. Changes
// nothing: the SQL runs in a throwaway session up to EXPLAIN, the jar is deleted after its plan.
import { Context } from '@temporalio/activity';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Config } from '../../src/config/config';
import { DeploymentSchema, TableRefSchema, type Deployment } from '../../src/domain/model';
import type { DeploymentCheck } from '../contract';
import { FailureType, fatal } from '../errors';
import { HttpStatusError } from '../http';
import type { SqlGatewayClient } from '../sql-gateway/client';
import { compileSqlJob } from '../sql-gateway/explain';
import { ownedSettingsProblem } from '../sql-gateway/owned-settings';
import { splitSqlScript } from '../sql-gateway/script';
import type { FlinkClient } from './client';
import { createCatalogStatement, DEPLOY_ID_KEY, isJobStatement } from './deploy';
import { deploymentFileInside } from './deployment-files';
import { parseInput } from './inputs';

export const CheckDeploymentsInput = z.object({
  deployments: z.array(DeploymentSchema).min(1),
  sinkTables: z.array(TableRefSchema).min(1),
});

type Problem = string;

export async function checkDeployments(
  flink: FlinkClient,
  gateway: SqlGatewayClient,
  config: Pick<Config, 'paimon' | 'deployments'>,
  input: unknown,
): Promise<{ checked: DeploymentCheck[] }> {
  const { deployments, sinkTables } = parseInput('checkDeployments', CheckDeploymentsInput, input);
  // Side by side: each version has its own gateway session (or jar upload), and most of a check is
  // waiting for the gateway's answer. The upgrade's two versions cost about one.
  let done = 0;
  const results = await Promise.all(
    deployments.map(async (deployment) => {
      const started = Date.now();
      const result = deployment.kind === 'sql' ? await checkSql(gateway, config, deployment, sinkTables) : await checkJar(flink, config, deployment);
      Context.current().heartbeat({ checked: ++done, of: deployments.length });
      return { deployment, result, tookMs: Date.now() - started };
    }),
  );
  const checked: DeploymentCheck[] = [];
  const problems: Problem[] = [];
  for (const { deployment, result, tookMs } of results) {
    if (typeof result === 'string') problems.push(`${label(deployment)}: ${result}`);
    else checked.push({ ...result, version: deployment.version, kind: deployment.kind, tookMs });
  }
  if (problems.length > 0) {
    throw fatal(FailureType.DeploymentCheckFailed, `checked before anything is stopped: ${problems.join('; ')}. Nothing was changed.`);
  }
  return { checked };
}

const label = (d: Deployment) =>
  d.kind === 'jar' ? `${d.version} (jar ${d.jarFile})` : d.scriptFile !== undefined ? `${d.version} (${d.scriptFile})` : `${d.version} (inline script)`;

type SqlDeployment = Extract<Deployment, { kind: 'sql' }>;
type JarDeployment = Extract<Deployment, { kind: 'jar' }>;

async function checkSql(
  gateway: SqlGatewayClient,
  config: Pick<Config, 'paimon' | 'deployments'>,
  sql: SqlDeployment,
  sinkTables: string[],
): Promise<Omit<DeploymentCheck, 'version' | 'kind' | 'tookMs'> | Problem> {
  let text = sql.script;
  let file: string | undefined;
  if (text === undefined) {
    const found = await deploymentFileInside(config.deployments.root, sql.scriptFile!);
    if (!found.ok) return found.problem;
    file = found.realPath;
    const read = await readFile(found.realPath, 'utf8').catch((err: NodeJS.ErrnoException) => err);
    if (read instanceof Error) return `cannot read ${found.realPath} (${read.code})`;
    text = read;
  }
  let statements: string[];
  try {
    statements = splitSqlScript(text);
  } catch (err) {
    return (err as Error).message;
  }
  const owned = ownedSettingsProblem(statements, DEPLOY_ID_KEY);
  if (owned) return owned;
  const options = config.paimon.catalogOptions.reveal();
  const compiled = await compileSqlJob(
    gateway,
    { statement: createCatalogStatement(config.paimon), redact: Object.values(options) },
    statements,
    isJobStatement,
  );
  if (!compiled.ok) return compiled.problem;
  const sinkProblem = sinksDiffer(compiled.sinks, sinkTables.map((t) => `${config.paimon.catalog}.${t}`));
  if (sinkProblem) return sinkProblem;
  return { file, sinks: compiled.sinks, ...(compiled.notRun.length > 0 ? { notRun: compiled.notRun } : {}) };
}

/** Exactly the declared sink tables: a table written but not declared would not be rolled back, one declared but not written has no tag. */
function sinksDiffer(written: string[], declared: string[]): Problem | undefined {
  const lower = (names: string[]) => new Set(names.map((n) => n.toLowerCase()));
  const w = lower(written);
  const d = lower(declared);
  const undeclared = written.filter((n) => !d.has(n.toLowerCase()));
  const unwritten = declared.filter((n) => !w.has(n.toLowerCase()));
  if (undeclared.length === 0 && unwritten.length === 0) return undefined;
  const parts = [
    ...(undeclared.length > 0 ? [`it writes ${undeclared.join(', ')}, which is not a declared sink table`] : []),
    ...(unwritten.length > 0 ? [`it does not write the declared sink table(s) ${unwritten.join(', ')}`] : []),
  ];
  return `its job's sinks are ${written.join(', ') || 'none'}, not the declared ${declared.join(', ')}: ${parts.join('; ')}`;
}

async function checkJar(
  flink: FlinkClient,
  config: Pick<Config, 'deployments'>,
  jar: JarDeployment,
): Promise<Omit<DeploymentCheck, 'version' | 'kind' | 'tookMs'> | Problem> {
  const found = await deploymentFileInside(config.deployments.root, jar.jarFile);
  if (!found.ok) return found.problem;
  let jarId: string;
  try {
    jarId = await flink.uploadJar(found.realPath);
  } catch (err) {
    if (err instanceof HttpStatusError && err.status >= 400 && err.status <= 500) return `Flink refused the upload: ${err.detail}`;
    throw err;
  }
  try {
    const { plan } = await flink.jarPlan(jarId, { entryClass: jar.entryClass, programArgsList: jar.args, parallelism: jar.parallelism });
    // The job graph shows operators, not the tables they write: a jar's sinks are not checked.
    return { file: found.realPath, jobName: plan.name };
  } catch (err) {
    if (err instanceof HttpStatusError && err.status >= 400 && err.status <= 500) {
      return `its entry class ${jar.entryClass ?? '(from the manifest)'} does not build a job: ${err.detail}`;
    }
    throw err;
  } finally {
    await flink.deleteJar(jarId).catch(() => undefined);
  }
}
