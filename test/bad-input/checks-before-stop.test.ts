// The checks before anything is stopped (issue 16, items 1 and 8), end to end on the real stack:
// a version whose file lies outside the deployments root (by path or by symlink), whose SQL names a
// column that does not exist or does not parse, is refused before the stop, for an upgrade and a
// restore; a crash-looping job is refused a savepoint and an upgrade with its own exception. Each
// time our job keeps RUNNING under the same id, and no table, tag, savepoint or record changed.
import { symlinkSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/activity-calls';
import { activities } from '../support/flink-activities';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { Deployment } from '../../src/domain/model';
import type { UpgradeInput } from '../../workflows/input';
import type { RestoreInput } from '../../workflows/restore-input';
import { cancelJobsNamed, createSinkTables, demoScript, deployableDir, jobState } from '../support/demo-pipeline';
import { config, flinkGet, paimonQuery, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import { startBadInputStack, upgradeOf as validUpgrade, type BadInputStack } from './fixture';
import { activitiesRun, READ_ONLY_ACTIVITIES, refusalOf, refusedAfterReadsOnly } from './refusal';
import { expectNothingChanged, snapshotOfTheWorld, type World } from './world';

let stack: BadInputStack;
let scripts: string;
const world = (): Promise<World> => snapshotOfTheWorld(stack);

/** A v2 of our pipeline with its text changed by `edit`, written under the deployments root. */
function v2With(name: string, edit: (sql: string) => string): Deployment {
  const file = path.join(scripts, name);
  writeFileSync(file, edit(demoScript('pipeline-v2.sql', stack.database, stack.jobName)));
  return { kind: 'sql', version: 'v2', scriptFile: file };
}

const upgradeOf = (changes: Partial<UpgradeInput> = {}): UpgradeInput => validUpgrade(stack, changes);

const upgradeRefused = async (input: UpgradeInput) => refusedAfterReadsOnly(await startUpgrade(stack.client, input, { taskQueue: stack.taskQueue }));

describe('checks before anything is stopped, on the real stack: refused before the stop, nothing changed', () => {
  beforeAll(async () => {
    stack = await startBadInputStack('checks');
    scripts = deployableDir('badinput-checks-');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('an upgrade to ../../etc/passwd: DeploymentCheckFailed naming the file, before the worker reads it', async () => {
    const before = await world();
    // Relative to the worker's working directory, the repository: /etc/passwd on this machine.
    const passwd = path.relative(process.cwd(), '/etc/passwd');
    const { refusal, ran } = await upgradeRefused(upgradeOf({ newVersion: { kind: 'sql', version: 'v2', scriptFile: passwd } }));
    expect(refusal.type).toBe('DeploymentCheckFailed');
    expect(refusal.message).toContain(`v2 (${passwd}): it resolves to /etc/passwd, outside the deployments root ${config.deployments.root}`);
    expect(refusal.message).toContain('Nothing was changed.');
    expect(ran).toContain('checkDeployments');
    expectNothingChanged(before, await world());
  });

  it('an upgrade whose old version is a symlink out of the root: refused, the symlink named', async () => {
    const before = await world();
    const outside = mkdtempSync(path.join(tmpdir(), 'badinput-outside-'));
    const target = path.join(outside, 'pipeline-v1.sql');
    writeFileSync(target, demoScript('pipeline-v1.sql', stack.database, stack.jobName));
    const link = path.join(scripts, 'v1-link.sql');
    symlinkSync(target, link);
    const { refusal } = await upgradeRefused(upgradeOf({ oldVersion: { kind: 'sql', version: 'v1', scriptFile: link } }));
    expect(refusal.type).toBe('DeploymentCheckFailed');
    expect(refusal.message).toContain(`v1 (${link}): it resolves to ${target}, outside the deployments root`);
    expect(refusal.message).not.toContain('v2 (');
    expectNothingChanged(before, await world());
  });

  it('an upgrade to SQL with an unknown column, or a syntax error: the planner says so before the stop', async () => {
    const before = await world();
    const unknownColumn = v2With('v2-unknown-column.sql', (sql) => sql.replaceAll("CAST(id AS STRING)", 'CAST(no_such_column AS STRING)'));
    const a = await upgradeRefused(upgradeOf({ newVersion: unknownColumn }));
    expect(a.refusal.type).toBe('DeploymentCheckFailed');
    expect(a.refusal.message).toContain(`v2 (${(unknownColumn as { scriptFile: string }).scriptFile}): `);
    expect(a.refusal.message).toContain("Column 'no_such_column' not found in any table");

    const syntax = v2With('v2-syntax-error.sql', (sql) => sql.replace(/SELECT id,/g, 'SELEC id,'));
    const b = await upgradeRefused(upgradeOf({ newVersion: syntax }));
    expect(b.refusal.type).toBe('DeploymentCheckFailed');
    expect(b.refusal.message).toContain(`v2 (${(syntax as { scriptFile: string }).scriptFile}): `);
    expect(b.refusal.message).toMatch(/SqlParseException|parse failed|Encountered|Non-query expression/);

    // A job that writes a table that is not declared: its rows would survive the rollback.
    const elsewhere = v2With('v2-other-sink.sql', (sql) => sql.replace(`paimon.${stack.database}.seq_b`, `paimon.${stack.database}.no_autotag`));
    const c = await upgradeRefused(upgradeOf({ newVersion: elsewhere }));
    expect(c.refusal.type).toBe('DeploymentCheckFailed');
    expect(c.refusal.message).toContain(`it writes paimon.${stack.noAutoTag}, which is not a declared sink table`);
    expect(c.refusal.message).toContain(`it does not write the declared sink table(s) paimon.${stack.sinks[1]}`);

    expectNothingChanged(before, await world());
  });

  it('a restore whose sql file is outside the root: refused at planning, before any approval or stop', async () => {
    const before = await world();
    const passwd = path.relative(process.cwd(), '/etc/passwd');
    const input: RestoreInput = {
      job: { jobName: stack.jobName },
      deployment: { kind: 'sql', version: 'v1', scriptFile: passwd },
      sinkTables: stack.sinks,
      restorePoint: 'latest-restorable',
      options: { approvers: ['badinput-alice'], requestedBy: 'badinput-bob', approvalTimeout: '10m', healthTimeout: '60s' },
    };
    const handle = await startRestore(stack.client, input, { taskQueue: stack.taskQueue });
    const refusal = await refusalOf(handle.result());
    const ran = await activitiesRun(handle);
    expect(ran.filter((a) => !READ_ONLY_ACTIVITIES.has(a)), ran.join(', ')).toEqual([]);
    expect(refusal.type).toBe('DeploymentCheckFailed');
    expect(refusal.message).toContain(`v1 (${passwd}): it resolves to /etc/passwd, outside the deployments root`);
    expectNothingChanged(before, await world());
  });

  describe('a crash-looping job (demo/sql/pipeline-broken.sql)', () => {
    const database = 'badinput_checks_broken';
    const brokenName = `${stack?.jobPrefix ?? 'badinput-checks-'}broken-${Date.now().toString(36)}`;
    let brokenId: string;
    const sinks = [`${database}.seq_a`, `${database}.seq_b`];

    beforeAll(async () => {
      await createSinkTables(database, ['seq_a', 'seq_b']);
      const file = path.join(scripts, 'broken.sql');
      writeFileSync(file, demoScript('pipeline-broken.sql', database, brokenName));
      ({ jobId: brokenId } = await run(activities().deployJob, {
        deployment: { kind: 'sql', version: 'broken', scriptFile: file },
        deployToken: `${brokenName}/broken`,
      }));
      // Failed at least once: its exception history has the cause.
      await until('the broken job to fail once', 60_000, async () => {
        const ex = await flinkGet<{ exceptionHistory: { entries: unknown[] } }>(`/jobs/${brokenId}/exceptions`);
        return ex.exceptionHistory.entries.length > 0 ? true : undefined;
      });
    });

    afterAll(async () => {
      await cancelJobsNamed(brokenName);
      await paimonQuery(`DROP DATABASE IF EXISTS \`${database}\` CASCADE`).catch(() => undefined);
    });

    const savepointsOf = async (jobId: string) =>
      (await flinkGet<{ history: { is_savepoint: boolean }[] }>(`/jobs/${jobId}/checkpoints`)).history.filter((h) => h.is_savepoint).length;

    it('a savepoint and an upgrade are refused with the job\'s own exception, and nothing is triggered', async () => {
      const savepoint = await stack.client.workflow.start('takeSavepointWorkflow', {
        taskQueue: stack.taskQueue,
        workflowId: unique('badinput-checks-savepoint'),
        args: [{ job: { jobId: brokenId }, tables: sinks, options: { label: 'crash-looping', tagTimeout: '30s' } }],
      });
      const sp = await refusedAfterReadsOnly(savepoint);
      expect(sp.refusal.type).toBe('NoRecentCheckpoint');
      expect(sp.refusal.message).toContain(`(${brokenId}) has no recent completed checkpoint: no checkpoint has completed since it started`);
      expect(sp.refusal.message).toContain('ArithmeticException: / by zero');
      expect(sp.ran).not.toContain('triggerSavepoint');

      const up = await upgradeRefused({
        job: { jobId: brokenId },
        newVersion: stack.v2,
        oldVersion: stack.v1,
        sinkTables: sinks,
        options: { healthTimeout: '60s', tagTimeout: '60s' },
      });
      expect(up.refusal.type).toBe('NoRecentCheckpoint');
      expect(up.refusal.message).toContain('ArithmeticException: / by zero');
      expect(up.ran.at(-1)).toBe('requireRecentCheckpoint');
      expect(up.ran).not.toContain('stopWithSavepoint');

      expect(['RUNNING', 'RESTARTING']).toContain(await jobState(brokenId));
      expect(await savepointsOf(brokenId)).toBe(0);
    });
  });
});
