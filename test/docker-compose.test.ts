import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_ENV_KEYS, loadConfig } from '../src/config/config';

// docker-compose.yml is never run here (no Docker engine), so these checks are what keeps it in
// step with src/config/config.ts and the ports scripts/stack.sh uses.

interface Service {
  image?: string;
  command?: string | string[];
  ports?: (string | number | { published?: string | number; target?: number })[];
  environment?: Record<string, string | number | null> | string[];
}

// Compose files use YAML 1.1 merge keys (`<<: *flink`); docker compose resolves them, and so must we.
const compose = parse(readFileSync(path.resolve(__dirname, '..', 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };
const { services } = compose;

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service '${name}'`);
  return found;
}

function publishedPorts(svc: Service): number[] {
  return (svc.ports ?? []).map((port) => {
    if (typeof port === 'object') return Number(port.published);
    // "host:container", "ip:host:container" or a bare container port.
    const parts = String(port).split('/')[0]!.split(':');
    return Number(parts.length === 1 ? parts[0] : parts[parts.length - 2]);
  });
}

function environment(svc: Service): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((line) => [line.split('=')[0]!, line.slice(line.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value ?? '')]));
}

/** A pinned value of scripts/stack-lib.sh (`NAME=value`). */
function stackLibValue(name: string): string {
  const lib = readFileSync(path.resolve(__dirname, '..', 'scripts', 'stack-lib.sh'), 'utf8');
  const found = new RegExp(`^${name}=([^\\s#]+)`, 'm').exec(lib);
  if (!found) throw new Error(`scripts/stack-lib.sh sets no ${name}`);
  return found[1]!;
}

function flinkProperties(svc: Service): Record<string, unknown> {
  return parse(environment(svc).FLINK_PROPERTIES ?? '') as Record<string, unknown>;
}

describe('docker-compose.yml', () => {
  it('has the stack and the worker', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['temporal', 'jobmanager', 'taskmanager', 'sql-gateway', 'reads-jobmanager', 'reads-taskmanager', 'worker']),
    );
  });

  it('publishes the ports of the local stack', () => {
    expect(publishedPorts(service('temporal')).sort()).toEqual([7233, 8233]);
    expect(publishedPorts(service('jobmanager'))).toEqual([8081]);
    expect(publishedPorts(service('sql-gateway'))).toEqual([8083]);
    expect(publishedPorts(service('reads-jobmanager'))).toEqual([8091]);
  });

  it('runs Flink 1.20 with the Paimon jar, and Hadoop on its classpath, on every Flink service', () => {
    for (const name of ['jobmanager', 'taskmanager', 'sql-gateway', 'reads-jobmanager', 'reads-taskmanager']) {
      const svc = service(name) as Service & { volumes?: string[] };
      expect(svc.image).toBe('flink:1.20.3-scala_2.12-java17');
      expect(svc.volumes).toContain('./.stack/downloads/paimon-flink-1.20-1.3.1.jar:/opt/flink/lib/paimon-flink-1.20-1.3.1.jar:ro');
      const hadoop = environment(svc).HADOOP_CLASSPATH;
      expect(svc.volumes).toContain(`./.stack/downloads/${path.basename(hadoop ?? '')}:${hadoop}:ro`);
      // The file `bash scripts/stack.sh fetch` downloads.
      expect(path.basename(hadoop ?? '')).toBe(`flink-shaded-hadoop-2-uber-${stackLibValue('HADOOP_UBER_VERSION')}.jar`);
    }
    for (const name of ['jobmanager', 'taskmanager', 'sql-gateway']) {
      expect(flinkProperties(service(name))).toMatchObject({
        'execution.checkpointing.interval': '3s',
        'execution.checkpointing.mode': 'EXACTLY_ONCE',
        'taskmanager.numberOfTaskSlots': 4,
      });
    }
  });

  it('runs the reads cluster as scripts/stack-reads-cluster.sh does, and the worker sends its reads there', () => {
    const reads = ['reads-jobmanager', 'reads-taskmanager'].map((name) => flinkProperties(service(name)));
    expect(reads[1]).toEqual(reads[0]);
    // Every setting of the script's config.yaml that names no host, port or path of the local stack.
    const script = readFileSync(path.resolve(__dirname, '..', 'scripts', 'stack-reads-cluster.sh'), 'utf8');
    const written = script.slice(script.indexOf('config.yaml" <<EOF'), script.indexOf('\nEOF', script.indexOf('config.yaml" <<EOF')));
    const fixed = [...written.matchAll(/^([a-z][\w.-]+): ([^$\n]+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(fixed.length).toBeGreaterThanOrEqual(8);
    for (const [key, value] of fixed) expect({ key, value: String(reads[0]![key]) }).toEqual({ key, value });
    expect(reads[0]).toMatchObject({ 'jobmanager.rpc.address': 'reads-jobmanager', 'rest.address': 'reads-jobmanager' });
    expect(loadConfig(environment(service('worker'))).paimon.readsRestUrl).toBe('http://reads-jobmanager:8081');
  });

  it('gives the worker only variables src/config/config.ts knows, and they load', () => {
    const env = environment(service('worker'));
    const known: readonly string[] = CONFIG_ENV_KEYS;
    expect(Object.keys(env).filter((key) => !known.includes(key))).toEqual([]);

    const config = loadConfig(env);
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.flink.restUrl).toBe('http://jobmanager:8081');
    expect(config.sqlGateway.url).toBe('http://sql-gateway:8083');
    expect(config.paimon.warehouse).toBe('file:///data/warehouse');
    // The worker and the JobManager must agree on where savepoints go.
    expect(config.flink.savepointDir).toBe(flinkProperties(service('jobmanager'))['state.savepoints.dir']);
  });
});
