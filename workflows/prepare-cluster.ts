// Before a stop: the next version's cluster set up where the job's target can (application mode's
// local launcher starts its TaskManager), so that JVM's start is not part of the job's downtime. A
// TaskManager alone runs and commits nothing. On the session cluster a SQL version's gateway
// session is set up beside the stop: its catalog and the script's statements that change only the
// session (activities/flink/sql-session-prepare.ts), which read and write no table. Only a head
// start: a prepare that fails is logged and the deploy does all of it as before; a stop that fails
// releases what was prepared.
import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, DeployParallelism } from '../activities/contract';
import type { Deployment } from '../src/domain/model';
import { restCall } from './activity-options';
import type { Placement } from './placement';

/** Histories recorded before this patch started nothing before the stop. */
const PREPARES_CLUSTER = 'prepares-next-cluster';
/** Histories recorded before this patch set up a SQL version's gateway session after the stop only. */
const PREPARES_SQL_SESSION = 'prepares-sql-session';

const once = proxyActivities<Activities>({ startToCloseTimeout: '90s', retry: { maximumAttempts: 1 } });
const rest = proxyActivities<Activities>(restCall);

export interface PreparedCluster {
  /** Stops the prepared cluster if its deploy never came; a launched one is left alone. */
  release(): Promise<void>;
  /** Settles once a preparation that runs beside the stop is over (it never fails): awaited before the deploy. */
  ready?: Promise<void>;
}

/** What the deploy after the stop will be given, but the savepoint: the same token, version and parallelism. */
export interface NextVersion {
  deployment: Deployment;
  token: string;
  parallelism?: DeployParallelism;
  placement: Placement;
  /** the savepoint the deploy restores, when known before the stop (a restore point's) */
  savepointPath?: string;
  allowNonRestoredState?: boolean;
}

export async function prepareNextCluster(next: NextVersion): Promise<PreparedCluster | undefined> {
  const { target } = next.placement;
  if (target?.kind !== 'application') return next.deployment.kind === 'sql' && patched(PREPARES_SQL_SESSION) ? prepareSqlSession(next) : undefined;
  if (target.launcher !== 'local' || !patched(PREPARES_CLUSTER)) return undefined;
  const { deployment, token, parallelism, placement } = next;
  const { jobName } = placement;
  try {
    await once.prepareVersion({ deployment, deployToken: token, target, ...(jobName ? { jobName } : {}), ...(parallelism ? { parallelism } : {}) });
  } catch (err) {
    log.warn('the next version\'s cluster was not prepared; the deploy will start all of it', { version: deployment.version, error: String(err) });
  }
  return {
    release: () =>
      rest.releaseVersion({ deployToken: token, target }).catch((err) => {
        // Its TaskManager ends itself once Flink's taskmanager.registration.timeout (5 min) passes without a JobManager.
        log.warn('the prepared cluster was not released', { version: deployment.version, error: String(err) });
      }),
  };
}

/** Started, not awaited: it runs beside the stop, which it does not touch. */
function prepareSqlSession({ deployment, token, parallelism, savepointPath, allowNonRestoredState }: NextVersion): PreparedCluster {
  const ready = once
    .prepareVersion({
      deployment,
      deployToken: token,
      ...(parallelism ? { parallelism } : {}),
      ...(savepointPath ? { savepointPath } : {}),
      ...(allowNonRestoredState !== undefined ? { allowNonRestoredState } : {}),
    })
    .then(
      () => undefined,
      (err) => log.warn('the next version\'s SQL session was not prepared; the deploy will run all of its script', { version: deployment.version, error: String(err) }),
    );
  return {
    ready,
    release: () =>
      // The gateway closes a session left idle for 10 minutes (sql-gateway.session.idle-timeout).
      ready.then(() => rest.releaseVersion({ deployToken: token })).catch((err) => log.warn('the prepared SQL session was not closed', { version: deployment.version, error: String(err) })),
  };
}
