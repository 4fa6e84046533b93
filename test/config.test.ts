import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV_KEYS, ConfigError, loadConfig } from '../src/config/config';

const root = path.resolve(__dirname, '..');

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected loadConfig to reject the environment');
}

describe('loadConfig', () => {
  it('defaults to the local stack of scripts/stack.sh', () => {
    const config = loadConfig({});
    expect(config.temporal).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'flink-paimon-ops',
      uiUrl: 'http://127.0.0.1:8233',
      tls: undefined,
      apiKey: undefined,
    });
    expect(config.flink).toMatchObject({
      restUrl: 'http://127.0.0.1:8081',
      authHeader: undefined,
      caFile: undefined,
      requestTimeoutMs: 15000,
      savepointDir: `file://${root}/.stack/data/savepoints`,
      savepointPollIntervalMs: 250,
      healthPollIntervalMs: 500,
    });
    expect(config.sqlGateway.url).toBe('http://127.0.0.1:8083');
    expect(config.paimon).toMatchObject({
      catalog: 'paimon',
      warehouse: `file://${root}/.stack/data/warehouse`,
      database: 'demo',
      tagPollIntervalMs: 2000,
    });
    expect(config.paimon.catalogOptions.reveal()).toEqual({});
    expect(config.stackHome).toBe(path.join(root, '.stack'));
  });

  it('moves the data defaults with STACK_HOME, as scripts/stack.sh does', () => {
    const config = loadConfig({ STACK_HOME: '/srv/stack' });
    expect(config.stackHome).toBe('/srv/stack');
    expect(config.paimon.warehouse).toBe('file:///srv/stack/data/warehouse');
    expect(config.flink.savepointDir).toBe('file:///srv/stack/data/savepoints');
  });

  it('reads given values, trims them, treats blank as unset and drops trailing slashes', () => {
    const config = loadConfig({
      FLINK_REST_URL: ' https://flink.example:8443/ ',
      FLINK_REQUEST_TIMEOUT_MS: '2500',
      TEMPORAL_NAMESPACE: '',
      PAIMON_CATALOG_OPTIONS: '{"cache-enabled":"false"}',
      PAIMON_WAREHOUSE: 's3://bucket/warehouse',
    });
    expect(config.flink.restUrl).toBe('https://flink.example:8443');
    expect(config.flink.requestTimeoutMs).toBe(2500);
    expect(config.temporal.namespace).toBe('default');
    expect(config.paimon.catalogOptions.reveal()).toEqual({ 'cache-enabled': 'false' });
    expect(config.paimon.warehouse).toBe('s3://bucket/warehouse');
  });

  it('takes poll intervals in milliseconds from 50 to 60000', () => {
    const config = loadConfig({ FLINK_SAVEPOINT_POLL_INTERVAL_MS: '100', FLINK_HEALTH_POLL_INTERVAL_MS: '750', PAIMON_TAG_POLL_INTERVAL_MS: '60000' });
    expect(config.flink).toMatchObject({ savepointPollIntervalMs: 100, healthPollIntervalMs: 750 });
    expect(config.paimon.tagPollIntervalMs).toBe(60000);
    expect(problemsOf({ FLINK_SAVEPOINT_POLL_INTERVAL_MS: '10', PAIMON_TAG_POLL_INTERVAL_MS: '2s', FLINK_HEALTH_POLL_INTERVAL_MS: '60001' })).toEqual([
      "FLINK_SAVEPOINT_POLL_INTERVAL_MS: must be a whole number of milliseconds from 50 to 60000, got '10'",
      "FLINK_HEALTH_POLL_INTERVAL_MS: must be a whole number of milliseconds from 50 to 60000, got '60001'",
      "PAIMON_TAG_POLL_INTERVAL_MS: must be a whole number of milliseconds from 50 to 60000, got '2s'",
    ]);
  });

  it('names the variable and the bad value', () => {
    expect(() => loadConfig({ FLINK_REST_URL: 'x' })).toThrow("FLINK_REST_URL: must be an http(s) URL, got 'x'");
    expect(problemsOf({ SQL_GATEWAY_URL: 'ftp://gateway' })).toEqual([
      "SQL_GATEWAY_URL: must be an http(s) URL, got 'ftp://gateway'",
    ]);
  });

  it('reports every bad variable at once', () => {
    const problems = problemsOf({
      TEMPORAL_ADDRESS: 'http://temporal:7233',
      FLINK_REQUEST_TIMEOUT_MS: '15s',
      PAIMON_DATABASE: 'demo; DROP TABLE x',
      PAIMON_WAREHOUSE: '/data/warehouse',
      TEMPORAL_TLS_KEY_FILE: '/certs/client.key',
    });
    expect(problems).toHaveLength(5);
    expect(problems).toContain('TEMPORAL_TLS_CERT_FILE: must be set too when TEMPORAL_TLS_KEY_FILE is (mTLS needs both)');
    expect(problems).toContain("TEMPORAL_ADDRESS: must be host:port (e.g. 127.0.0.1:7233), got 'http://temporal:7233'");
    expect(problems).toContain("FLINK_REQUEST_TIMEOUT_MS: must be a positive whole number of milliseconds, got '15s'");
    expect(problems.find((p) => p.startsWith('PAIMON_DATABASE: must be a SQL identifier'))).toBeDefined();
    expect(problems.find((p) => p.startsWith('PAIMON_WAREHOUSE: must be a URI with a scheme'))).toBeDefined();
  });

  it('wants the mTLS certificate and key together', () => {
    expect(problemsOf({ TEMPORAL_TLS_CERT_FILE: '/certs/client.pem' })).toEqual([
      'TEMPORAL_TLS_KEY_FILE: must be set too when TEMPORAL_TLS_CERT_FILE is (mTLS needs both)',
    ]);
    const config = loadConfig({ TEMPORAL_TLS_CERT_FILE: '/certs/client.pem', TEMPORAL_TLS_KEY_FILE: '/certs/client.key' });
    expect(config.temporal.tls).toEqual({ caFile: undefined, certFile: '/certs/client.pem', keyFile: '/certs/client.key' });
  });

  it('takes the deployments root as an absolute path, by default the working directory, and an optional checkpoint age', () => {
    const config = loadConfig({});
    expect(config.deployments.root).toBe(process.cwd());
    expect(config.flink.checkpointMaxAgeMs).toBeUndefined();
    const given = loadConfig({ DEPLOYMENTS_ROOT: '/srv/deployments', FLINK_CHECKPOINT_MAX_AGE_MS: '120000' });
    expect(given.deployments.root).toBe('/srv/deployments');
    expect(given.flink.checkpointMaxAgeMs).toBe(120000);
    expect(problemsOf({ DEPLOYMENTS_ROOT: 'deployments', FLINK_CHECKPOINT_MAX_AGE_MS: '2m' })).toEqual([
      "FLINK_CHECKPOINT_MAX_AGE_MS: must be a positive whole number of milliseconds, got '2m'",
      "DEPLOYMENTS_ROOT: must be an absolute path (the folder scripts and jars are deployed from), got 'deployments'",
    ]);
  });

  it('METRICS_PROMETHEUS_ADDRESS: a host:port for the worker\'s /metrics, or nothing', () => {
    expect(loadConfig({ METRICS_PROMETHEUS_ADDRESS: '127.0.0.1:9464' }).metrics).toEqual({ prometheusAddress: '127.0.0.1:9464' });
    expect(loadConfig({}).metrics).toEqual({ prometheusAddress: undefined });
    expect(() => loadConfig({ METRICS_PROMETHEUS_ADDRESS: 'http://x:1/metrics' })).toThrow(/METRICS_PROMETHEUS_ADDRESS/);
  });

  it("PAIMON_READS_FLINK_REST_URL: the stack's reads cluster beside the stack's gateway, else the gateway's own cluster", () => {
    expect(loadConfig({}).paimon.readsRestUrl).toBe('http://127.0.0.1:8091');
    expect(loadConfig({ SQL_GATEWAY_URL: 'http://gw:8083' }).paimon.readsRestUrl).toBeUndefined();
    expect(loadConfig({ PAIMON_READS_FLINK_REST_URL: 'gateway' }).paimon.readsRestUrl).toBeUndefined();
    expect(
      loadConfig({ SQL_GATEWAY_URL: 'http://gw:8083', PAIMON_READS_FLINK_REST_URL: 'http://reads-jm:8081/' }).paimon.readsRestUrl,
    ).toBe('http://reads-jm:8081');
    expect(problemsOf({ PAIMON_READS_FLINK_REST_URL: 'http://jm:8081/proxy/flink' })).toEqual([
      "PAIMON_READS_FLINK_REST_URL: must be 'gateway' or http(s)://host:port with no path (a Flink REST endpoint), got 'http://jm:8081/proxy/flink'",
    ]);
    expect(() => loadConfig({ PAIMON_READS_FLINK_REST_URL: 'jm:8081' })).toThrow(/PAIMON_READS_FLINK_REST_URL/);
  });

  it('lists every variable it reads', () => {
    expect([...CONFIG_ENV_KEYS].sort()).toEqual(
      [
        'APPROVERS_ALLOWED_SIGNERS',
        'DEPLOYMENTS_ROOT',
        'FLINK_CHECKPOINT_MAX_AGE_MS',
        'FLINK_REQUEST_TIMEOUT_MS',
        'FLINK_REST_AUTH_HEADER',
        'FLINK_REST_CA_FILE',
        'FLINK_HEALTH_POLL_INTERVAL_MS',
        'FLINK_REST_URL',
        'FLINK_SAVEPOINT_DIR',
        'FLINK_SAVEPOINT_POLL_INTERVAL_MS',
        'METRICS_PROMETHEUS_ADDRESS',
        'PAIMON_CATALOG',
        'PAIMON_CATALOG_OPTIONS',
        'PAIMON_DATABASE',
        'PAIMON_READS_FLINK_REST_URL',
        'PAIMON_TAG_POLL_INTERVAL_MS',
        'PAIMON_WAREHOUSE',
        'SQL_GATEWAY_URL',
        'STACK_HOME',
        'TEMPORAL_ADDRESS',
        'TEMPORAL_API_KEY',
        'TEMPORAL_NAMESPACE',
        'TEMPORAL_TASK_QUEUE',
        'TEMPORAL_TLS_CA_FILE',
        'TEMPORAL_TLS_CERT_FILE',
        'TEMPORAL_TLS_KEY_FILE',
        'TEMPORAL_UI_URL',
      ].sort(),
    );
  });
});

describe('secrets in the config', () => {
  const secrets = {
    TEMPORAL_API_KEY: 'temporal-key-s3cr3t',
    FLINK_REST_AUTH_HEADER: 'Bearer flink-token-s3cr3t',
    PAIMON_CATALOG_OPTIONS: '{"s3.secret-key":"paimon-s3cr3t"}',
  };

  it('are readable only through reveal()', () => {
    const config = loadConfig(secrets);
    expect(config.temporal.apiKey?.reveal()).toBe('temporal-key-s3cr3t');
    expect(config.flink.authHeader?.reveal()).toBe('Bearer flink-token-s3cr3t');
    expect(config.paimon.catalogOptions.reveal()).toEqual({ 's3.secret-key': 'paimon-s3cr3t' });
  });

  it('never show in a JSON, string or inspect dump', () => {
    const config = loadConfig(secrets);
    const dumps = [
      JSON.stringify(config),
      inspect(config, { depth: Infinity, showHidden: true }),
      String(config.temporal.apiKey),
      `${config.flink.authHeader}`,
      String(config.paimon.catalogOptions),
    ];
    for (const dump of dumps) expect(dump).not.toMatch(/s3cr3t/);
    expect(JSON.parse(JSON.stringify(config)).temporal.apiKey).toBe('[redacted]');
  });

  it('never show in error messages', () => {
    const problems = problemsOf({
      FLINK_REST_AUTH_HEADER: 'Bearer s3cr3t\nX-Injected: 1',
      PAIMON_CATALOG_OPTIONS: '{"s3.secret-key": 42, "note": "s3cr3t"}',
    });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^FLINK_REST_AUTH_HEADER: /);
    expect(problems[1]).toMatch(/^PAIMON_CATALOG_OPTIONS: must be a JSON object of string options/);
    for (const problem of problems) expect(problem).not.toMatch(/s3cr3t/);
  });
});
