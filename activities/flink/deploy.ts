// Deploying a version: a jar through /jars, or a SQL script through the SQL gateway. Both are
// idempotent per deploy token, so a retried activity finds the job its first attempt started.
import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { z } from 'zod';
import type { Config } from '../../src/config/config';
import type { Deployment } from '../../src/domain/model';
import { FailureType, fatal } from '../errors';
import { HttpStatusError } from '../http';
import type { SqlGatewayClient } from '../sql-gateway/client';
import { splitSqlScript } from '../sql-gateway/script';
import type { FlinkClient } from './client';
import { DeployJobInput, parseInput, PrepareVersionInput, ReleaseVersionInput } from './inputs';
import { liveJobWithMarker, pipelineNameOf } from './earlier-deploy';
import { overridesOption } from './parallelism';
import { deployApplication, prepareApplication } from '../targets/application-deploy';
import type { LaunchRegistry } from '../targets/registry';
import type { TargetDriver } from '../targets/target';
import { localPath, readSavepointHeader } from './savepoint-metadata';
import { ownedSettingsProblem, withDeployMarker } from '../sql-gateway/owned-settings';
import type { PreparedSessions } from './sql-session-prepare';

export type DeployRequest = z.output<typeof DeployJobInput>;
type JarDeployment = Extract<Deployment, { kind: 'jar' }>;
type SqlDeployment = Extract<Deployment, { kind: 'sql' }>;

/**
 * The user-config key that marks a SQL job with its deploy id. Flink shows user-config values in
 * GET /jobs/:id/config, except for keys that look secret ("token", "secret", "password"...),
 * which it masks as ******; hence not "deploy-token".
 */
export const DEPLOY_ID_KEY = 'flink-paimon-ops.deploy-id';

/** 32 hex characters from the deploy token: the jar job's id, and the SQL job's marker. */
export function deployIdOf(deployToken: string): string {
  return createHash('sha256').update(deployToken).digest('hex').slice(0, 32);
}

/** Where application-mode versions go: a driver per launcher, and the registry of their launches. */
export interface ApplicationDeployers {
  drivers: Record<'local' | 'command', TargetDriver>;
  registry: LaunchRegistry;
}

export async function deployJob(
  flink: FlinkClient,
  gateway: SqlGatewayClient,
  paimon: Config['paimon'],
  input: unknown,
  application?: ApplicationDeployers,
  sessions?: PreparedSessions,
): Promise<{ jobId: string; restUrl?: string; preparedSession?: boolean }> {
  const request = parseInput('deployJob', DeployJobInput, input);
  const deployId = deployIdOf(request.deployToken);
  if (request.savepointPath && localPath(request.savepointPath) !== undefined) {
    if (!(await readSavepointHeader(request.savepointPath)).exists) {
      throw fatal(
        FailureType.SavepointNotFound,
        `deploying ${request.deployment.version}: savepoint ${request.savepointPath} does not exist (no _metadata). ` +
          'Pick another restore point.',
      );
    }
  }
  const { target } = request;
  if (target.kind === 'application') {
    if (!application) throw fatal(FailureType.InvalidInput, `deploying ${request.deployment.version}: this worker has no application-mode launchers.`);
    return deployApplication(application.drivers[target.launcher], application.registry, {
      ...request,
      launcher: target.launcher,
      deployId,
    });
  }
  return sessionDeploy(flink, gateway, paimon, request, deployId, sessions);
}

/** What a SQL version on the session cluster is prepared with: the worker's prepared sessions and the catalog. */
export interface SessionPreparation {
  sessions: PreparedSessions;
  paimon: Config['paimon'];
}

/**
 * Before the old version stops: the new version's cluster prepared where its target can (the local
 * launcher's TaskManager), a SQL version's gateway session on the session cluster. The deploy of
 * the same token uses it.
 */
export async function prepareVersion(input: unknown, application?: ApplicationDeployers, sql?: SessionPreparation): Promise<{ prepared: boolean }> {
  const request = parseInput('prepareVersion', PrepareVersionInput, input);
  const { target } = request;
  if (target.kind !== 'application') return sql ? prepareSqlSession(sql.sessions, sql.paimon, request, deployIdOf(request.deployToken)) : { prepared: false };
  if (!application) return { prepared: false };
  return prepareApplication(application.drivers[target.launcher], application.registry, {
    ...request,
    launcher: target.launcher,
    deployId: deployIdOf(request.deployToken),
  });
}

/** A prepared cluster or session whose deploy will not come (the stop failed): stopped; a launched one is left alone. */
export async function releaseVersion(input: unknown, application?: ApplicationDeployers, sessions?: PreparedSessions): Promise<void> {
  const { deployToken, target } = parseInput('releaseVersion', ReleaseVersionInput, input);
  if (target.kind !== 'application') return sessions?.release(deployIdOf(deployToken));
  if (!application) return;
  await application.drivers[target.launcher].release?.(deployIdOf(deployToken));
}

/** Today's target: the one session cluster, a jar through /jars or SQL through the SQL gateway. */
export function sessionDeploy(
  flink: FlinkClient,
  gateway: SqlGatewayClient,
  paimon: Config['paimon'],
  request: DeployRequest,
  deployId: string,
  sessions?: PreparedSessions,
) {
  return request.deployment.kind === 'jar'
    ? deployJar(flink, request, request.deployment, deployId)
    : deploySql(flink, gateway, paimon, request, request.deployment, deployId, sessions);
}

async function deployJar(flink: FlinkClient, request: DeployRequest, jar: JarDeployment, jobId: string) {
  const attempted = `deploying jar ${jar.jarFile} (${jar.version}) as job ${jobId}`;
  if (await jobExists(flink, jobId)) return { jobId };
  const isFile = await stat(jar.jarFile).then((s) => s.isFile(), () => false);
  if (!isFile) throw fatal(FailureType.InvalidInput, `${attempted}: no such file on the worker. Check jarFile.`);
  const jarId = await flink.uploadJar(jar.jarFile);
  Context.current().heartbeat({ jobId, step: 'uploaded' });
  try {
    await flink.runJar(jarId, {
      entryClass: jar.entryClass,
      programArgsList: jar.args,
      parallelism: request.parallelism?.graphParallelism ?? jar.parallelism,
      ...(request.parallelism ? { flinkConfiguration: parallelismProperties(request.parallelism) } : {}),
      // A fixed job id makes a second submission of the same deploy a duplicate Flink refuses.
      jobId,
      savepointPath: request.savepointPath,
      allowNonRestoredState: request.allowNonRestoredState,
    });
  } catch (err) {
    if (await jobExists(flink, jobId)) return { jobId };
    if (err instanceof HttpStatusError && err.status >= 400 && err.status <= 500) {
      throw fatal(FailureType.DeployFailed, `${attempted} failed: ${err.detail}. Fix the jar, its arguments or the savepoint.`);
    }
    throw err;
  } finally {
    await flink.deleteJar(jarId).catch(() => undefined);
  }
  return { jobId };
}

async function jobExists(flink: FlinkClient, jobId: string): Promise<boolean> {
  try {
    await flink.jobDetails(jobId);
    return true;
  } catch (err) {
    if (err instanceof HttpStatusError && err.status === 404) return false;
    throw err;
  }
}

// Statements that submit a Flink job; a deployment is exactly one job.
const JOB_STATEMENT = /^(INSERT|EXECUTE|SELECT|WITH)\b/i;
export const isJobStatement = (statement: string) => JOB_STATEMENT.test(statement);

async function deploySql(
  flink: FlinkClient,
  gateway: SqlGatewayClient,
  paimon: Config['paimon'],
  request: DeployRequest,
  sql: SqlDeployment,
  deployId: string,
  sessions?: PreparedSessions,
) {
  const statements = await statementsToRun(sql, deployId);
  const existing = await liveJobWithMarker(flink, DEPLOY_ID_KEY, deployId, pipelineNameOf(statements, isJobStatement));
  if (existing) return { jobId: existing };
  const properties = sessionProperties(request, deployId);
  const prepared = await sessions?.take(deployId, statements);
  let session: string;
  let toRun: string[];
  if (prepared) {
    session = prepared.session;
    toRun = [...settingsChanged(prepared.properties, properties), ...statements.slice(prepared.ran.length)];
  } else {
    session = await gateway.openSession(properties, `deploy-${deployId}`);
    toRun = [createCatalogStatement(paimon), ...statements];
  }
  const options = paimon.catalogOptions.reveal();
  let jobId: string | undefined;
  try {
    for (const [i, statement] of toRun.entries()) {
      const result = await gateway.execute(session, statement, { redact: Object.values(options) }).catch((err: unknown) => {
        // The gateway dropped the prepared session (restarted, or idle past its timeout): nothing ran in it yet.
        if (prepared && i === 0 && SESSION_GONE.test(String((err as Error).message))) return undefined;
        throw err;
      });
      if (!result) {
        await gateway.closeSession(session).catch(() => undefined);
        return deploySql(flink, gateway, paimon, request, sql, deployId);
      }
      jobId ??= result.jobId;
      Context.current().heartbeat({ deployId, statement: i + 1, of: toRun.length });
    }
  } catch (err) {
    if ((err as { type?: string }).type === FailureType.SqlFailed) {
      throw fatal(FailureType.DeployFailed, `deploying SQL ${sql.version}: ${(err as Error).message}`);
    }
    throw err;
  } finally {
    await gateway.closeSession(session).catch(() => undefined);
  }
  if (!jobId) {
    throw fatal(FailureType.DeployFailed, `deploying SQL ${sql.version}: the script ran but the SQL gateway reported no job id.`);
  }
  return { jobId, ...(prepared ? { preparedSession: true } : {}) };
}

const SESSION_GONE = /Session '[^']*' does not exist/;

/** The session config a SQL deploy runs with: our marker, the parallelism it keeps, the savepoint it restores. */
function sessionProperties(request: Pick<DeployRequest, 'parallelism' | 'savepointPath' | 'allowNonRestoredState'>, deployId: string): Record<string, string> {
  const properties: Record<string, string> = { 'pipeline.global-job-parameters': `${DEPLOY_ID_KEY}:${deployId}` };
  if (request.parallelism) Object.assign(properties, parallelismProperties(request.parallelism));
  if (request.savepointPath) {
    // Flink 1.20's names (StateRecoveryOptions). Through the SQL gateway the deprecated
    // execution.savepoint.ignore-unclaimed-state is not honoured (verified on 1.20.3): the job
    // still refuses unmapped state.
    properties['execution.state-recovery.path'] = request.savepointPath;
    properties['execution.state-recovery.ignore-unclaimed-state'] = String(request.allowNonRestoredState);
  }
  return properties;
}

/** Flink's default, left unset in a session prepared without it. */
const SESSION_DEFAULTS: Record<string, string> = { 'execution.state-recovery.ignore-unclaimed-state': 'false' };

/** SET and RESET statements that turn a prepared session's config into the deploy's. */
export function settingsChanged(prepared: Record<string, string>, wanted: Record<string, string>): string[] {
  const set = Object.entries(wanted)
    .filter(([key, value]) => (prepared[key] ?? SESSION_DEFAULTS[key]) !== value)
    .map(([key, value]) => `SET ${quote(key)} = ${quote(value)}`);
  const reset = Object.keys(prepared)
    .filter((key) => !(key in wanted))
    .map((key) => `RESET ${quote(key)}`);
  return [...set, ...reset];
}

/** A SQL version on the session cluster: its gateway session set up before the stop (sql-session-prepare.ts). */
export async function prepareSqlSession(
  sessions: PreparedSessions,
  paimon: Config['paimon'],
  request: z.output<typeof PrepareVersionInput>,
  deployId: string,
): Promise<{ prepared: boolean }> {
  if (request.deployment.kind !== 'sql') return { prepared: false };
  const statements = await statementsToRun(request.deployment, deployId);
  await sessions.prepare(deployId, sessionProperties(request, deployId), [createCatalogStatement(paimon)], statements);
  return { prepared: true };
}

/**
 * What a SQL deploy runs, and what its session prepared before the stop ran the first of: the script
 * with the deploy's marker added to job parameters it sets itself. Both read it here, so a prepared
 * session's statements compare equal to the deploy's.
 */
async function statementsToRun(sql: SqlDeployment, deployId: string): Promise<string[]> {
  return withDeployMarker(await readStatements(sql), DEPLOY_ID_KEY, deployId);
}

export async function readStatements(sql: SqlDeployment): Promise<string[]> {
  let text = sql.script;
  if (text === undefined) {
    text = await readFile(sql.scriptFile!, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw fatal(FailureType.InvalidInput, `deploying SQL ${sql.version}: cannot read ${sql.scriptFile} (${err.code}).`);
    });
  }
  let statements: string[];
  try {
    statements = splitSqlScript(text);
  } catch (err) {
    throw fatal(FailureType.InvalidInput, `deploying SQL ${sql.version}: ${(err as Error).message}`);
  }
  const owned = ownedSettingsProblem(statements, DEPLOY_ID_KEY);
  if (owned) throw fatal(FailureType.InvalidInput, `deploying SQL ${sql.version}: ${owned}.`);
  const jobs = statements.filter(isJobStatement).length;
  if (jobs !== 1) {
    throw fatal(
      FailureType.InvalidInput,
      `deploying SQL ${sql.version}: the script must start exactly one job (one INSERT or one EXECUTE STATEMENT SET ` +
        `BEGIN ... END), and it has ${jobs}. Put several INSERTs in one statement set.`,
    );
  }
  return statements;
}

/**
 * The graph built at the running job's parallelism keeps every operator id; the scheduler then
 * sets each vertex's parallelism from the job's pipeline.jobvertex-parallelism-overrides (seen on
 * 1.20.3 through both the SQL gateway's session and the jar's flinkConfiguration).
 */
function parallelismProperties(parallelism: NonNullable<DeployRequest['parallelism']>): Record<string, string> {
  return {
    'parallelism.default': String(parallelism.graphParallelism),
    'pipeline.jobvertex-parallelism-overrides': overridesOption(parallelism.overrides),
  };
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

export function createCatalogStatement(paimon: Config['paimon']): string {
  const options = { ...paimon.catalogOptions.reveal(), type: 'paimon', warehouse: paimon.warehouse };
  const withClause = Object.entries(options).map(([k, v]) => `${quote(k)} = ${quote(v)}`).join(', ');
  return `CREATE CATALOG IF NOT EXISTS \`${paimon.catalog}\` WITH (${withClause})`;
}
