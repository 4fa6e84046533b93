// savepointctl upgrade: stop a job with a savepoint, deploy the new version from it, health-gate it.
import { startUpgrade } from '../../client/start-upgrade';
import type { Deployment } from '../../domain/model';
import type { UpgradeResult } from '../../../workflows/messages';
import { flinkJobNames } from '../../client/job-name';
import { bool, compact, list, readJson, str, type Parsed } from '../args';
import { workflowUrl } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { follow } from '../follow';
import { json } from '../output';
import { upgradeSummary } from '../views/upgrade';
import type { Command } from './command';
import { TARGET_FLAGS, TARGET_USAGE, targetFromFlags } from '../target-flags';

function deployment(p: Parsed, which: 'new' | 'old'): Deployment {
  const version = str(p, `${which}-version`);
  const sqlFile = str(p, `${which}-sql-file`);
  const jar = str(p, `${which}-jar`);
  if (!version) throw new UsageError(`--${which}-version is required (a label such as v2)`);
  if ((sqlFile === undefined) === (jar === undefined)) {
    throw new UsageError(`give exactly one of --${which}-sql-file or --${which}-jar`);
  }
  return sqlFile !== undefined
    ? { kind: 'sql', version, scriptFile: sqlFile }
    : { kind: 'jar', version, jarFile: jar!, entryClass: str(p, `${which}-entry-class`), args: list(p, `${which}-arg`) };
}

/** `--vertex-parallelism ID=N` (repeatable): N for the running job's vertex ID. */
function vertexParallelism(pairs: string[]): Record<string, number> | undefined {
  if (pairs.length === 0) return undefined;
  const map: Record<string, number> = {};
  for (const pair of pairs) {
    const m = /^([0-9a-f]{32})=(\d+)$/.exec(pair.trim());
    if (!m) throw new UsageError(`--vertex-parallelism takes VERTEX_ID=N (a vertex id from GET /jobs/<id>/plan); got '${pair}'`);
    map[m[1]!] = Number(m[2]);
  }
  return map;
}

function inputFromFlags(p: Parsed): unknown {
  const jobId = str(p, 'job-id');
  const jobName = str(p, 'job-name');
  if ((jobId === undefined) === (jobName === undefined)) throw new UsageError('give exactly one of --job-id or --job-name');
  const sinkTables = list(p, 'table');
  if (sinkTables.length === 0) throw new UsageError('--table is required: each Paimon sink table as database.table');
  return {
    job: jobId !== undefined ? { jobId } : { jobName },
    newVersion: deployment(p, 'new'),
    oldVersion: deployment(p, 'old'),
    sinkTables,
    ...(targetFromFlags(p) !== undefined ? { target: targetFromFlags(p) } : {}),
    options: compact({
      drain: bool(p, 'drain') || undefined,
      compensate: bool(p, 'no-compensate') ? false : undefined,
      savepointTimeout: str(p, 'savepoint-timeout'),
      healthTimeout: str(p, 'health-timeout'),
      tagTimeout: str(p, 'tag-timeout'),
      notWriters: list(p, 'not-writer').length > 0 ? list(p, 'not-writer') : undefined,
      allowNonRestoredState: bool(p, 'allow-non-restored-state') || undefined,
      parallelism: str(p, 'parallelism') !== undefined ? Number(str(p, 'parallelism')) : undefined,
      vertexParallelism: vertexParallelism(list(p, 'vertex-parallelism')),
    }),
  };
}

export const upgrade: Command = {
  name: 'upgrade',
  summary: 'move a running job to a new version through stop-with-savepoint, with automatic rollback',
  usage: `savepointctl upgrade (--input FILE | --job-name NAME|--job-id ID --table DB.T... VERSIONS) [options]

  --input FILE             the workflow input as JSON (the same as pasted into the Temporal UI; '-' = stdin)
  --job-name NAME          the running job, by name (must match exactly one running job)
  --job-id ID              the running job, by id
  --table DB.TABLE         a Paimon sink table (repeat, or comma-separated); every one is rolled back together
  --new-version LABEL      the new version's label, e.g. v2
  --new-sql-file FILE      the new version as a SQL script (on the worker's machine)
  --new-jar FILE           the new version as a jar (with --new-entry-class, --new-arg)
  --old-version LABEL      the running version's label, to redeploy it if the upgrade does not go through
  --old-sql-file FILE | --old-jar FILE
  --drain                  stop with --drain (fires event-time timers)
  --not-writer JOB         a live job (id or name) that writes a table of a sink table's name in another
                           database (Flink's plan names the table only): not refused as another writer
  --allow-non-restored-state   start the new version even if it leaves savepoint state unclaimed: that
                           state is dropped for good (the result says so)
  --parallelism N          run the new version's vertices at N (Paimon's committer stays at 1); the graph is
                           built as the running job's, so every operator keeps its state
  --vertex-parallelism ID=N   N for one vertex of the running job (ids: GET /jobs/<id>/plan); repeat
  --no-compensate          leave an unhealthy new version running instead of rolling back
  --savepoint-timeout D --health-timeout D --tag-timeout D   e.g. 10m, 5m, 2m
${TARGET_USAGE}
  --wait                   follow the steps and print the result`,
  flags: {
    ...TARGET_FLAGS,
    input: { type: 'string' },
    'job-name': { type: 'string' },
    'job-id': { type: 'string' },
    table: { type: 'string', multiple: true },
    'new-version': { type: 'string' },
    'new-sql-file': { type: 'string' },
    'new-jar': { type: 'string' },
    'new-entry-class': { type: 'string' },
    'new-arg': { type: 'string', multiple: true },
    'old-version': { type: 'string' },
    'old-sql-file': { type: 'string' },
    'old-jar': { type: 'string' },
    'old-entry-class': { type: 'string' },
    'old-arg': { type: 'string', multiple: true },
    drain: { type: 'boolean' },
    'not-writer': { type: 'string', multiple: true },
    'allow-non-restored-state': { type: 'boolean' },
    parallelism: { type: 'string' },
    'vertex-parallelism': { type: 'string', multiple: true },
    'no-compensate': { type: 'boolean' },
    'savepoint-timeout': { type: 'string' },
    'health-timeout': { type: 'string' },
    'tag-timeout': { type: 'string' },
    wait: { type: 'boolean' },
  },
  async run(p, ctx) {
    const input = str(p, 'input') !== undefined ? readJson('input', str(p, 'input')!) : inputFromFlags(p);
    const handle = await startUpgrade(await ctx.client(), input as never, {
      taskQueue: ctx.config.temporal.taskQueue,
      uiUrl: ctx.config.temporal.uiUrl,
      namespace: ctx.config.temporal.namespace,
      jobNameOf: flinkJobNames(ctx.config.flink),
    });
    ctx.working(handle.workflowId);
    if (!bool(p, 'wait')) {
      ctx.out(ctx.json ? json({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId }) : `started ${handle.workflowId}\n  ${workflowUrl(ctx.config, handle.workflowId, handle.firstExecutionRunId)}`);
      return 0;
    }
    if (!ctx.json) ctx.out(`started ${handle.workflowId}; following its steps (Ctrl-C stops following, not the upgrade)`);
    const result = await follow<UpgradeResult>(ctx, handle, (s) => (s.savepoint ? `  (savepoint ${s.savepoint.id}, tag ${s.tag})` : ''));
    ctx.out(ctx.json ? json(result) : upgradeSummary(result));
    if (result.status !== 'upgraded') throw new CommandFailed(`${result.status}: ${result.reason ?? 'the upgrade did not go through'}`);
    return 0;
  },
};
