// The compatibility table backed three ways: README's table, scripts/stack-lib.sh's STACK_PAIRS and
// activities/compat.ts name the same pairs; and the running stack (whichever pair `npm test` was
// given) is one of them, with the SQL gateway API versions, Paimon connector and procedures the
// table says. CI runs this file on every pair it brings up (.ci/run).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLINK_LINES, PAIMON_PROCEDURES, SQL_GATEWAY_API, flinkLine, paimonFeatures } from '../activities/compat';
import { repoRoot } from '../src/config/repo-root';
import { config, flinkGet, paimonQuery, requireStack } from './support/stack';

interface Pair {
  flink: string;
  paimon: string;
}
const key = (p: Pair) => `flink ${p.flink} + paimon ${p.paimon}`;

/** README's rows under "## Compatibility": | `name` | flink | paimon (`connector`) | API versions | rollback_to_as_latest | --parallelism | … */
function readmeRows() {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  const section = readme.split('\n## Compatibility\n')[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => /^\| `[\w.]+`[^|]*\| \d/.test(line))
    .map((line) => {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      const [, paimon, connector] = /^([\d.]+) \(`([\w.-]+)`\)$/.exec(cells[2]!) ?? [];
      return {
        name: /`([\w.]+)`/.exec(cells[0]!)![1]!,
        flink: cells[1]!,
        paimon: paimon!,
        connector: connector!,
        apiVersions: cells[3]!.split(',').map((v) => v.trim()),
        rollbackToAsLatest: cells[4] === 'yes',
        parallelismOverrides: cells[5] === 'yes',
      };
    });
}

function stackPairs(): (Pair & { name: string })[] {
  const lib = readFileSync(path.join(repoRoot(), 'scripts', 'stack-lib.sh'), 'utf8');
  const block = /^STACK_PAIRS=\(\n([\s\S]*?)^\)/m.exec(lib)?.[1] ?? '';
  return [...block.matchAll(/^\s*"([\w.]+)\s+([\d.]+)\s+([\d.]+)"/gm)].map((m) => ({ name: m[1]!, flink: m[2]!, paimon: m[3]! }));
}

describe('compatibility table', () => {
  it('picks a line by Flink version, and only a listed one', () => {
    expect(flinkLine('1.20.3')?.line).toBe('1.20');
    expect(flinkLine('2.1.3')?.line).toBe('2.1');
    expect(flinkLine('1.19.1')).toBeUndefined();
    expect(flinkLine('2.10.0')).toBeUndefined();
    expect(flinkLine('2.0.0')).toBeUndefined();
  });

  it('README, scripts/stack-lib.sh and activities/compat.ts name the same pairs', () => {
    const readme = readmeRows();
    const script = stackPairs();
    expect(readme.length).toBeGreaterThanOrEqual(2);
    expect(readme.map((r) => `${r.name}: ${key(r)}`)).toEqual(script.map((p) => `${p.name}: ${key(p)}`));
    expect(readme.map(key).sort()).toEqual(FLINK_LINES.map((l) => key(l.provenWith)).sort());
    for (const row of readme) {
      const line = flinkLine(row.flink)!;
      expect(row.connector).toBe(line.paimonConnector);
      expect(row.apiVersions).toEqual(line.sqlGatewayApiVersions);
      expect(row.apiVersions).toContain(SQL_GATEWAY_API.toUpperCase());
      expect(row.parallelismOverrides).toBe(line.parallelismOverrides);
    }
  });
});

describe('the running stack is a pair of the table', () => {
  beforeAll(requireStack);

  it('runs a proven Flink and Paimon, and its gateway serves the API versions the table says', async () => {
    const { 'flink-version': flinkVersion } = await flinkGet<{ 'flink-version': string }>('/config');
    const line = flinkLine(flinkVersion);
    expect(line, `Flink ${flinkVersion} is not a line of activities/compat.ts`).toBeDefined();
    // Flink's lib/ names Paimon's jar: paimon-flink-<line>-<paimon version>.jar.
    const { classpath } = await flinkGet<{ classpath: string[] }>('/jobmanager/environment');
    const jar = classpath.map((p) => path.basename(p)).find((name) => name.startsWith('paimon-flink-'));
    const paimonVersion = new RegExp(`^${line!.paimonConnector}-([\\d.]+)\\.jar$`).exec(jar ?? '')?.[1];
    expect(paimonVersion, `Paimon jar on the cluster: ${jar}`).toBeDefined();
    const row = readmeRows().find((r) => r.flink === flinkVersion && r.paimon === paimonVersion);
    expect(row, `Flink ${flinkVersion} with Paimon ${paimonVersion} is not a row of README's compatibility table`).toBeDefined();

    const res = await request(`${config.sqlGateway.url}/api_versions`, { headersTimeout: 10_000 });
    const { versions } = (await res.body.json()) as { versions: string[] };
    expect(versions).toEqual(row!.apiVersions);
  });

  it('has every Paimon procedure the workflows call, and rollback_to_as_latest exactly where the table says', async () => {
    const procedures = (await paimonQuery('SHOW PROCEDURES FROM sys')).map((r) => String(Object.values(r)[0]));
    expect(procedures.length).toBeGreaterThan(PAIMON_PROCEDURES.length);
    for (const name of PAIMON_PROCEDURES) expect(procedures).toContain(name);
    const { 'flink-version': flinkVersion } = await flinkGet<{ 'flink-version': string }>('/config');
    const rows = readmeRows().filter((r) => r.flink === flinkVersion);
    expect(rows.length).toBe(1);
    expect(paimonFeatures(procedures).rollbackToAsLatest).toBe(rows[0]!.rollbackToAsLatest);
  });
});
