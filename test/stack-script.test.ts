// scripts/stack.sh refuses bad situations at once with a message that says what to do.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config';
import { repoRoot } from '../src/config/repo-root';

const script = path.join(repoRoot(), 'scripts', 'stack.sh');
const run = (args: string[], env: Record<string, string> = {}, bashCommand?: string) =>
  spawnSync('bash', bashCommand ? ['-c', bashCommand] : [script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });

describe('scripts/stack.sh', () => {
  it('says Java is missing instead of failing later', () => {
    const result = run(['fetch'], { JAVA_HOME: '/nonexistent-java' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Java not found (looked for '/nonexistent-java/bin/java')");
  });

  it('refuses to start a service on a port another process holds, without recording a pid', () => {
    // The Flink REST port is held by the running JobManager; a service that wants it must not start.
    const { hostname, port } = new URL(loadConfig().flink.restUrl);
    const lib = path.join(repoRoot(), 'scripts', 'stack-lib.sh');
    const result = run([], { STACK_BIND: hostname }, `REPO_ROOT='${repoRoot()}'; source '${lib}'; start_process port-probe ${port} sleep 60`);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`port ${hostname}:${port} is already taken by another process, so port-probe cannot start`);
    expect(run([], {}, `test -e '${loadConfig().stackHome}/run/port-probe.pid'`).status).toBe(1);
  });

  it('rejects an unknown command with its usage', () => {
    const result = run(['launch']);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain('scripts/stack.sh up');
  });

  it("names the reads cluster in its env, on its own port, and 'gateway' when it starts none", () => {
    const moved = run(['env'], { READS_FLINK_REST_PORT: '18091' });
    expect(moved.stdout).toContain('PAIMON_READS_FLINK_REST_URL=http://127.0.0.1:18091\n');
    const off = run(['env'], { STACK_READS_CLUSTER: 'off' });
    expect(off.stdout).toContain('PAIMON_READS_FLINK_REST_URL=gateway\n');
    // What the worker makes of each.
    const env = (text: string) => Object.fromEntries(text.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
    expect(loadConfig(env(moved.stdout)).paimon.readsRestUrl).toBe('http://127.0.0.1:18091');
    expect(loadConfig(env(off.stdout)).paimon.readsRestUrl).toBeUndefined();
  });

  it('reports what runs and where', () => {
    const result = run(['status']);
    expect(result.status).toBe(0);
    for (const service of ['temporal', 'jobmanager', 'taskmanager', 'sql-gateway', 'reads-jobmanager', 'reads-taskmanager']) {
      expect(result.stdout).toMatch(new RegExp(`${service}\\s+running\\s+pid \\d+`));
    }
    // The slots are a knob: how many there are, how many are free, and how to get more.
    expect(result.stdout).toMatch(/task slots {3}\d+, \d+ free \(.*TASK_SLOTS=N scripts\/stack\.sh up\)/);
  });
});
