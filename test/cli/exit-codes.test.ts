// Exit codes are the same for every savepointctl command (0 done, 1 refused or failed with one line
// on stderr, 2 wrong usage) and every --help lists them; refusals from the worker come back as one
// line a person can act on. The refusals run against the real stack with an in-process worker.
import { createActivities } from '../../activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../../src/cli/main';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { config, requireStack } from '../support/stack';
import { unique } from '../support/temporal-env';

const JOB = `exit-codes-${Date.now().toString(36)}`;

async function cli(taskQueue: string | undefined, ...args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(taskQueue ? [...args, '--task-queue', taskQueue] : args, { out: (l = '') => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err };
}

describe('savepointctl exit codes', () => {
  it('every command lists the exit codes in its --help, and exits 0 for --help', async () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(expect.arrayContaining(['restore-points', 'retention', 'pin', 'unpin', 'status']));
    for (const command of COMMANDS) {
      const help = await cli(undefined, command.name, '--help');
      expect(help.code, command.name).toBe(0);
      expect(help.out, command.name).toMatch(/^Exit codes \(the same for every command\):\n {2}0 {3}done\n {2}1 {3}refused or failed: one line on stderr/m);
      expect(help.out, command.name).toMatch(/^ {2}2 {3}wrong usage/m);
    }
    const top = await cli(undefined, '--help');
    expect(top).toMatchObject({ code: 0, out: expect.stringContaining('Exit codes') });
  });

  it('wrong usage exits 2 with one line, before anything is asked of Temporal', async () => {
    // An address nothing listens on: a command that got as far as Temporal would fail (1), not 2.
    const nowhere = ['--temporal-address', '127.0.0.1:1'];
    const cases = [
      ['restore-points', JOB, '--table', 'no-dot', ...nowhere],
      ['restore-points', ...nowhere],
      ['pin', JOB, 'latest', ...nowhere],
      ['unpin', JOB, ...nowhere],
      ['retention', JOB, '--keep-last', 'two', ...nowhere],
      ['retention', JOB, '--keep-last', '2', '--upgrade-keep-after', '-1', ...nowhere],
      ['retention', JOB, '--keep-last', '2', '--upgrade-min-age', 'soon', ...nowhere],
    ];
    for (const args of cases) {
      const r = await cli(undefined, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toHaveLength(1);
      expect(r.err[0], args.join(' ')).toMatch(new RegExp(`^savepointctl ${args[0]}: `));
    }
    expect((await cli(undefined, 'restore-points', JOB, '--table', 'no-dot', ...nowhere)).err[0]).toContain("--table 'no-dot': a sink table is written 'database.table'");
    expect((await cli(undefined, 'retention', JOB, '--keep-last', '2', '--upgrade-min-age', 'soon', ...nowhere)).err[0]).toContain('upgradePins.minAge');
  });

  describe('on the real stack', () => {
    const taskQueue = unique('exit-codes');
    let worker: InProcessWorker | undefined;

    beforeAll(async () => {
      await requireStack();
      worker = await startInProcessWorker(config, taskQueue, createActivities(config));
    });
    afterAll(async () => {
      await worker?.stop();
    });

    it('restore-points with a table that does not exist exits 1 with one line naming it, not an activity error', async () => {
      const r = await cli(taskQueue, 'restore-points', JOB, '--table', 'exit_codes_nodb.nope');
      expect(r.code).toBe(1);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/^savepointctl restore-points: cannot list the restore points of '.*': table exit_codes_nodb\.nope not found in Paimon catalog '\w+' \(database 'exit_codes_nodb' does not exist\)\. Check the sink table names/);
      expect(r.err[0]).not.toMatch(/Activity|ApplicationFailure|Exception|at org\./);
      expect(r.out).toBe('');
      const json = await cli(taskQueue, 'restore-points', JOB, '--table', 'exit_codes_nodb.nope', '--json');
      expect(json).toMatchObject({ code: 1, out: '' });
    });

    it('a job without restore points: restore-points and retention exit 0, --json prints JSON; pin of an unknown point exits 1', async () => {
      const listed = await cli(taskQueue, 'restore-points', JOB, '--json');
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.out)).toEqual([]);
      const dry = await cli(taskQueue, 'retention', JOB, '--keep-last', '1', '--json');
      expect(dry.code).toBe(0);
      expect(JSON.parse(dry.out)).toMatchObject({ jobName: JOB, dryRun: true, decisions: [], deleted: [], inUse: [] });
      const unknown = await cli(taskQueue, 'status', `flink-job/${JOB}`);
      expect(unknown).toMatchObject({
        code: 1,
        err: [`savepointctl status: no operation for 'flink-job/${JOB}' in namespace '${config.temporal.namespace}' (looked for workflow 'flink-job/${JOB}')`],
      });
      // By the job's name, as approve and restore-points take it: the operation's id is looked for, then the name as an id.
      const byName = await cli(taskQueue, 'status', JOB);
      expect(byName.err).toEqual([expect.stringContaining(`(looked for workflow 'flink-job/${JOB}' and '${JOB}')`)]);
      const noSchedule = await cli(taskQueue, 'schedule', 'trigger', JOB);
      expect(noSchedule.code).toBe(1);
      expect(noSchedule.err).toHaveLength(1);
      const pinned = await cli(taskQueue, 'pin', JOB, '99');
      expect(pinned.code).toBe(1);
      expect(pinned.err).toEqual([expect.stringMatching(/^savepointctl pin: job '.*' has no recorded restore point for savepoint 99/)]);
    });
  });
});
