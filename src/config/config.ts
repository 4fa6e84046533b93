import path from 'node:path';
import { z } from 'zod';
import { catalogOptions, filePath, hostPort, httpUrl, name, pollMillis, positiveMillis, secret, shown, sqlIdentifier, uri } from './env-values';
import { repoRoot } from './repo-root';
import type { Secret } from './secret';

export { Secret } from './secret';

// The environment variable names are a contract with scripts/stack.sh (`stack.sh env` prints
// them) and docker-compose.yml; test/docker-compose.test.ts holds the compose file to it.

export interface Config {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    /** Set when any TEMPORAL_TLS_* file is; an API key alone also turns TLS on. */
    tls?: { caFile?: string; certFile?: string; keyFile?: string };
    apiKey?: Secret;
  };
  flink: {
    /** Without a trailing slash, so `${restUrl}/jobs` is right. */
    restUrl: string;
    /** The whole Authorization header value, e.g. "Bearer abc". */
    authHeader?: Secret;
    caFile?: string;
    requestTimeoutMs: number;
    /** Where savepoints go (Flink's state.savepoints.dir); a URI as the JobManager sees it. */
    savepointDir: string;
    /** Pause between polls of a savepoint's status, and of the job it stopped: on the downtime path. */
    savepointPollIntervalMs: number;
    /** Pause between the health gate's polls of the job state and its checkpoints. */
    healthPollIntervalMs: number;
    /**
     * How old a job's latest completed checkpoint may be for a savepoint or upgrade to go ahead
     * (FLINK_CHECKPOINT_MAX_AGE_MS); unset: three of the job's checkpoint intervals, at least 60 s.
     */
    checkpointMaxAgeMs?: number;
  };
  deployments: {
    /**
     * The folder every script and jar an operation deploys must resolve into, symlinks resolved
     * (DEPLOYMENTS_ROOT, absolute; default the worker's working directory).
     */
    root: string;
  };
  sqlGateway: { url: string };
  paimon: {
    catalog: string;
    /** A URI as the Flink cluster sees it. */
    warehouse: string;
    database: string;
    /** Extra catalog options; a secret because they commonly carry object-store credentials. */
    catalogOptions: Secret<Readonly<Record<string, string>>>;
    /** Pause between checks for a savepoint's tag (each check is a short batch job on the cluster). */
    tagPollIntervalMs: number;
    /**
     * The Flink cluster the Paimon reads' batch jobs run on (PAIMON_READS_FLINK_REST_URL): unset,
     * the cluster the SQL gateway submits to by default, which is commonly the production one.
     */
    readsRestUrl?: string;
  };
  /** Where the worker serves Prometheus metrics (/metrics), e.g. 127.0.0.1:9464; unset: no endpoint. */
  metrics: { prometheusAddress?: string };
  approvals: {
    /**
     * The approvers' public keys, a git-style allowed-signers file (APPROVERS_ALLOWED_SIGNERS,
     * absolute): a restore's approval or rejection counts only when signed by a key it lists for
     * that approver. Re-read when it changes. Unset: no restore can be approved (each says why).
     */
    allowedSignersFile?: string;
  };
  /** The local stack's folder (downloads, data, logs), as scripts/stack.sh uses it. */
  stackHome: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** The stack's reads cluster (scripts/stack-reads-cluster.sh), the default beside the stack's gateway. */
export const STACK_READS_FLINK_REST_URL = 'http://127.0.0.1:8091';

// The SQL gateway is told the cluster as rest.address and rest.port, so a path cannot be said.
const readsRestUrl = z.union([
  z.literal('gateway'),
  httpUrl.refine((value) => ['', '/'].includes(new URL(value).pathname), {
    error: (issue) => `must be 'gateway' or http(s)://host:port with no path (a Flink REST endpoint), got ${shown(issue.input)}`,
  }),
]);

const envSchema = z.object({
  TEMPORAL_ADDRESS: hostPort,
  TEMPORAL_NAMESPACE: name,
  TEMPORAL_TASK_QUEUE: name,
  TEMPORAL_UI_URL: httpUrl,
  TEMPORAL_TLS_CA_FILE: filePath.optional(),
  TEMPORAL_TLS_CERT_FILE: filePath.optional(),
  TEMPORAL_TLS_KEY_FILE: filePath.optional(),
  TEMPORAL_API_KEY: secret.optional(),
  FLINK_REST_URL: httpUrl,
  FLINK_REST_AUTH_HEADER: secret.optional(),
  FLINK_REST_CA_FILE: filePath.optional(),
  FLINK_REQUEST_TIMEOUT_MS: positiveMillis,
  FLINK_SAVEPOINT_DIR: uri('file:///data/savepoints'),
  FLINK_SAVEPOINT_POLL_INTERVAL_MS: pollMillis,
  FLINK_HEALTH_POLL_INTERVAL_MS: pollMillis,
  FLINK_CHECKPOINT_MAX_AGE_MS: positiveMillis.optional(),
  METRICS_PROMETHEUS_ADDRESS: hostPort.optional(),
  APPROVERS_ALLOWED_SIGNERS: filePath
    .refine((value) => path.isAbsolute(value), {
      error: (issue) => `must be an absolute path (the approvers' allowed-signers file), got ${shown(issue.input)}`,
    })
    .optional(),
  DEPLOYMENTS_ROOT: filePath.refine((value) => path.isAbsolute(value), {
    error: (issue) => `must be an absolute path (the folder scripts and jars are deployed from), got ${shown(issue.input)}`,
  }),
  SQL_GATEWAY_URL: httpUrl,
  PAIMON_CATALOG: sqlIdentifier,
  PAIMON_WAREHOUSE: uri('file:///data/warehouse or s3://bucket/warehouse'),
  PAIMON_CATALOG_OPTIONS: catalogOptions,
  PAIMON_DATABASE: sqlIdentifier,
  PAIMON_TAG_POLL_INTERVAL_MS: pollMillis,
  PAIMON_READS_FLINK_REST_URL: readsRestUrl,
  STACK_HOME: filePath,
});

export type ConfigEnvKey = keyof typeof envSchema.shape;

/** Every environment variable the config reads. */
export const CONFIG_ENV_KEYS = Object.keys(envSchema.shape) as ConfigEnvKey[];

/** Defaults that do not depend on where the stack lives; they point at scripts/stack.sh's stack. */
export const ENV_DEFAULTS = {
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: 'flink-paimon-ops',
  TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
  FLINK_REST_URL: 'http://127.0.0.1:8081',
  FLINK_REQUEST_TIMEOUT_MS: '15000',
  // A savepoint status is a cheap lookup in the JobManager, and the job is down while it is
  // polled (stop-with-savepoint): poll it often. The health gate reads the job's state (not
  // cached) and its checkpoint statistics, which the REST API caches
  // (rest.cache.checkpoint-statistics.timeout, 3 s by default): polling faster than 500 ms mostly
  // re-reads that cache.
  FLINK_SAVEPOINT_POLL_INTERVAL_MS: '250',
  FLINK_HEALTH_POLL_INTERVAL_MS: '500',
  SQL_GATEWAY_URL: 'http://127.0.0.1:8083',
  PAIMON_CATALOG: 'paimon',
  PAIMON_CATALOG_OPTIONS: '{}',
  PAIMON_DATABASE: 'demo',
  PAIMON_TAG_POLL_INTERVAL_MS: '2000',
} as const satisfies Partial<Record<ConfigEnvKey, string>>;

/** The data paths default to where scripts/stack.sh keeps them: $STACK_HOME/data/... */
function stackDefaults(stackHome: string) {
  return {
    STACK_HOME: stackHome,
    PAIMON_WAREHOUSE: `file://${stackHome}/data/warehouse`,
    FLINK_SAVEPOINT_DIR: `file://${stackHome}/data/savepoints`,
  } satisfies Partial<Record<ConfigEnvKey, string>>;
}

/** Variables that only make sense together; checked apart from the schema so they always report. */
function pairingProblems(given: Partial<Record<ConfigEnvKey, string>>): string[] {
  const cert = given.TEMPORAL_TLS_CERT_FILE !== undefined;
  const key = given.TEMPORAL_TLS_KEY_FILE !== undefined;
  if (cert === key) return [];
  return cert
    ? ['TEMPORAL_TLS_KEY_FILE: must be set too when TEMPORAL_TLS_CERT_FILE is (mTLS needs both)']
    : ['TEMPORAL_TLS_CERT_FILE: must be set too when TEMPORAL_TLS_KEY_FILE is (mTLS needs both)'];
}

/**
 * Reads and validates the configuration. Unset and blank variables take their defaults; values
 * are trimmed. Throws a {@link ConfigError} naming every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const given: Partial<Record<ConfigEnvKey, string>> = {};
  for (const key of CONFIG_ENV_KEYS) {
    const value = env[key]?.trim();
    if (value) given[key] = value;
  }
  const stackHome = path.resolve(given.STACK_HOME ?? path.join(repoRoot(), '.stack'));
  const parsed = envSchema.safeParse({
    ...ENV_DEFAULTS,
    ...stackDefaults(stackHome),
    DEPLOYMENTS_ROOT: process.cwd(),
    // Beside the stack's gateway, its reads cluster; beside another gateway, that gateway's cluster.
    PAIMON_READS_FLINK_REST_URL: given.SQL_GATEWAY_URL === undefined ? STACK_READS_FLINK_REST_URL : 'gateway',
    ...given,
  });
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${String(issue.path[0] ?? 'config')}: ${issue.message}`);
  problems.push(...pairingProblems(given));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const tlsFiles = { caFile: e.TEMPORAL_TLS_CA_FILE, certFile: e.TEMPORAL_TLS_CERT_FILE, keyFile: e.TEMPORAL_TLS_KEY_FILE };
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL,
      tls: Object.values(tlsFiles).some((file) => file !== undefined) ? tlsFiles : undefined,
      apiKey: e.TEMPORAL_API_KEY,
    },
    flink: {
      restUrl: e.FLINK_REST_URL,
      authHeader: e.FLINK_REST_AUTH_HEADER,
      caFile: e.FLINK_REST_CA_FILE,
      requestTimeoutMs: e.FLINK_REQUEST_TIMEOUT_MS,
      savepointDir: e.FLINK_SAVEPOINT_DIR,
      savepointPollIntervalMs: e.FLINK_SAVEPOINT_POLL_INTERVAL_MS,
      healthPollIntervalMs: e.FLINK_HEALTH_POLL_INTERVAL_MS,
      checkpointMaxAgeMs: e.FLINK_CHECKPOINT_MAX_AGE_MS,
    },
    deployments: { root: e.DEPLOYMENTS_ROOT },
    metrics: { prometheusAddress: e.METRICS_PROMETHEUS_ADDRESS },
    approvals: { allowedSignersFile: e.APPROVERS_ALLOWED_SIGNERS },
    sqlGateway: { url: e.SQL_GATEWAY_URL },
    paimon: {
      catalog: e.PAIMON_CATALOG,
      warehouse: e.PAIMON_WAREHOUSE,
      database: e.PAIMON_DATABASE,
      catalogOptions: e.PAIMON_CATALOG_OPTIONS,
      tagPollIntervalMs: e.PAIMON_TAG_POLL_INTERVAL_MS,
      readsRestUrl: e.PAIMON_READS_FLINK_REST_URL === 'gateway' ? undefined : e.PAIMON_READS_FLINK_REST_URL,
    },
    stackHome: e.STACK_HOME,
  };
}
