// Bad input to an upgrade, end to end on the real stack: each case is refused with an error that
// names the offending input, and afterwards nothing has changed (world.ts). Driven through the
// client (src/client/start-upgrade.ts), the Temporal UI's way (workflow type + raw JSON) and the CLI.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLookupError } from '../../src/client/job-name';
import { InvalidUpgradeInputError, OperationAlreadyRunningError, startUpgrade } from '../../src/client/start-upgrade';
import type { UpgradeInput } from '../../workflows/input';
import { operationWorkflowId } from '../../workflows/messages';
import { jobState } from '../support/demo-pipeline';
import { unique } from '../support/temporal-env';
import { finishedJob, JOB_PREFIX, startBadInputStack, upgradeOf as validUpgrade, type BadInputStack } from './fixture';
import { activitiesRun, expectUiRefusals, refusalOf, refusedAfterReadsOnly } from './refusal';
import { expectNothingChanged, snapshotOfTheWorld, type World } from './world';

let stack: BadInputStack;
let finishedJobId: string;
let finishedName: string;

const world = (): Promise<World> => snapshotOfTheWorld(stack);

const upgradeOf = (changes: Partial<UpgradeInput> = {}): UpgradeInput => validUpgrade(stack, changes);

/** Starts the upgrade through the client and returns how it was refused, and what it ran first. */
async function refusedUpgrade(input: UpgradeInput) {
  const { refusal } = await refusedAfterReadsOnly(await startUpgrade(stack.client, input, { taskQueue: stack.taskQueue }));
  return refusal;
}

/** The CLI flags of a valid upgrade of our job. */
const cliUpgrade = (...jobFlags: string[]) => [
  'upgrade',
  ...jobFlags,
  '--table', stack.sinks.join(','),
  '--new-version', 'v2', '--new-sql-file', (stack.v2 as { scriptFile: string }).scriptFile,
  '--old-version', 'v1', '--old-sql-file', (stack.v1 as { scriptFile: string }).scriptFile,
  '--wait',
];

describe('bad input to an upgrade on the real stack: a clear error, nothing changed', () => {
  beforeAll(async () => {
    stack = await startBadInputStack('upgrade');
    finishedName = `${stack.jobPrefix}finished-${Date.now().toString(36)}`;
    finishedJobId = await finishedJob(finishedName);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('an unknown job id or name: JobNotFound naming it', async () => {
    const before = await world();
    // A fresh id every run: a job id also names the operation's workflow id.
    const ghost = randomBytes(16).toString('hex');

    const unknownId =
      `resolving job ${ghost}: Flink does not know job ${ghost}. Check the job id (GET /jobs/overview lists the jobs) ` +
      'and that FLINK_REST_URL points at the cluster that runs it.';
    // The client looks the job's name up (the operation's key) before it starts anything.
    const lookup = await startUpgrade(stack.client, upgradeOf({ job: { jobId: ghost } }), { taskQueue: stack.taskQueue }).catch((e: unknown) => e);
    expect(lookup).toBeInstanceOf(JobLookupError);
    expect(lookup).toMatchObject({ message: unknownId, type: 'JobNotFound' });
    // Typed into the UI: the workflow's own lookup refuses it, having only read.
    const ui = await stack.client.workflow.start('upgradeWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: `flink-job/${ghost}`,
      args: [upgradeOf({ job: { jobId: ghost } })],
    });
    expect(await refusalOf(ui.result())).toEqual({ type: 'JobNotFound', message: unknownId });
    expect(await activitiesRun(ui)).toEqual(['resolveJob']);
    const byName = await refusedUpgrade(upgradeOf({ job: { jobName: `${JOB_PREFIX}no-such-job` } }));
    expect(byName).toEqual({
      type: 'JobNotFound',
      message:
        `resolving job name '${JOB_PREFIX}no-such-job': no running job has that name (terminated jobs do not count). ` +
        'Check the name in the Flink UI, or give the job id.',
    });
    const cli = await stack.cli(...cliUpgrade('--job-id', ghost));
    expect(cli.code).toBe(1);
    expect(cli.err).toContain(`savepointctl upgrade: resolving job ${ghost}: Flink does not know job ${ghost}.`);
    // Not even an id: refused by the client before anything starts.
    await expect(startUpgrade(stack.client, upgradeOf({ job: { jobId: 'DEADBEEF' } }), { taskQueue: stack.taskQueue })).rejects.toThrow(
      InvalidUpgradeInputError,
    );

    expectNothingChanged(before, await world());
  });

  it('a job that is not running (FINISHED): JobNotRunning naming its state; by name it is not found', async () => {
    const before = await world();

    const byId = await refusedUpgrade(upgradeOf({ job: { jobId: finishedJobId } }));
    expect(byId).toEqual({
      type: 'JobNotRunning',
      message: `job '${finishedName}' (${finishedJobId}) is FINISHED: an upgrade stops a RUNNING job with a savepoint`,
    });
    const byName = await refusedUpgrade(upgradeOf({ job: { jobName: finishedName } }));
    expect(byName.type).toBe('JobNotFound');
    expect(byName.message).toContain(`'${finishedName}': no running job has that name (terminated jobs do not count)`);
    expect(await jobState(finishedJobId)).toBe('FINISHED');

    expectNothingChanged(before, await world());
  });

  it("a sink table without 'sink.savepoint.auto-tag': AutoTagDisabled naming the table, before anything is stopped", async () => {
    const before = await world();

    const refusal = await refusedUpgrade(upgradeOf({ sinkTables: [stack.sinks[0]!, stack.noAutoTag] }));
    expect(refusal).toEqual({
      type: 'AutoTagDisabled',
      message:
        `sink table(s) without 'sink.savepoint.auto-tag' = 'true': ${stack.noAutoTag}; ` +
        "set it (ALTER TABLE <table> SET ('sink.savepoint.auto-tag' = 'true')) and start the upgrade again",
    });

    expectNothingChanged(before, await world());
  });

  it('injection in identifiers: refused by the client, the workflow (UI) and the CLI, naming the field; no SQL runs', async () => {
    const before = await world();
    const evil = [
      `${stack.sinks[0]}; DROP TABLE ${stack.sinks[1]}`,
      `${stack.sinks[1]}') --`,
      `${stack.database}.\`seq_b\``,
      `${stack.sinks[1]}$snapshots`,
      `\`paimon\`.${stack.sinks[1]}`,
    ];
    const expected = "sinkTables[1]: a sink table is written 'database.table' with letters, digits, '_' or '-' only";

    for (const table of evil) {
      const input = upgradeOf({ sinkTables: [stack.sinks[0]!, table] });
      const client = await startUpgrade(stack.client, input, { taskQueue: stack.taskQueue }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(client, table).toBeInstanceOf(InvalidUpgradeInputError);
      expect((client as InvalidUpgradeInputError).problems, table).toEqual([expected]);

      // The Temporal UI starts the workflow type with the JSON as typed: the workflow refuses it.
      const ui = await stack.client.workflow.start('upgradeWorkflow', {
        taskQueue: stack.taskQueue,
        workflowId: unique('badinput-ui'),
        args: [input],
      });
      expect(await refusalOf(ui.result()), table).toEqual({ type: 'InvalidInput', message: `invalid upgrade input: ${expected}` });
      expect(await activitiesRun(ui)).toEqual([]);
    }
    const cli = await stack.cli('upgrade', '--job-name', stack.jobName, '--table', `${stack.sinks[0]},${stack.sinks[1]}') --`, ...cliUpgrade().slice(3));
    expect(cli).toMatchObject({ code: 2, err: `savepointctl upgrade: ${expected}` });

    expectNothingChanged(before, await world());
  });

  it('malformed JSON from the UI: the workflow refuses it at once, one line per wrong field, before any activity', async () => {
    const before = await world();
    const cases: [unknown[], string][] = [
      [[{ garbage: true }], 'invalid upgrade input: job: '],
      [[], 'invalid upgrade input: input: '],
      [['upgrade please'], 'invalid upgrade input: input: '],
      [
        [{ ...upgradeOf(), newVersion: { kind: 'sql', version: 'v2' }, options: { healthTimeout: 'soon' } }],
        'invalid upgrade input: newVersion: give exactly one of script or scriptFile; options.healthTimeout: ' +
          `must be milliseconds or a duration like '2m', more than 0 and at most 24h; got "soon"`,
      ],
      [[{ ...upgradeOf(), newVersion: { kind: 'docker', version: 'v2' } }], 'invalid upgrade input: newVersion.kind: must be one of "sql", "jar"'],
      [[{ ...upgradeOf(), sinkTables: [] }], 'invalid upgrade input: sinkTables: give at least one sink table'],
      [[{ ...upgradeOf(), sinkTables: [stack.sinks[0], stack.sinks[0]] }], `invalid upgrade input: sinkTables[1]: '${stack.sinks[0]}' is listed twice`],
      [[{ ...upgradeOf(), options: { compensate: 'yes' } }], 'invalid upgrade input: options.compensate: '],
    ];
    await expectUiRefusals(stack, 'upgradeWorkflow', cases);

    // The same JSON given to the CLI: not JSON at all, or JSON of the wrong shape.
    const dir = mkdtempSync(path.join(tmpdir(), 'badinput-json-'));
    writeFileSync(path.join(dir, 'broken.json'), '{"job": {"jobName": ');
    writeFileSync(path.join(dir, 'wrong.json'), JSON.stringify({ job: { name: stack.jobName }, sinkTables: stack.sinks }));
    const broken = await stack.cli('upgrade', '--input', path.join(dir, 'broken.json'));
    expect(broken.code).toBe(2);
    expect(broken.err).toContain(`savepointctl upgrade: --input: '${path.join(dir, 'broken.json')}' is not valid JSON`);
    const wrong = await stack.cli('upgrade', '--input', path.join(dir, 'wrong.json'));
    expect(wrong.code).toBe(2);
    expect(wrong.err.split('\n')).toHaveLength(1);
    expect(wrong.err).toMatch(/^savepointctl upgrade: job: .*; newVersion: .*; oldVersion: /);

    expectNothingChanged(before, await world());
  });

  it('a second upgrade of the same job while one runs: refused, naming the running upgrade', async () => {
    const before = await world();
    // The first upgrade is running but not yet acted on: no worker polls its task queue.
    const first = await startUpgrade(stack.client, upgradeOf(), { taskQueue: unique('badinput-idle') });
    try {
      const second = await startUpgrade(stack.client, upgradeOf(), { taskQueue: stack.taskQueue }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(second).toBeInstanceOf(OperationAlreadyRunningError);
      const { message, runningWorkflowType, runningRunId } = second as OperationAlreadyRunningError;
      expect({ runningWorkflowType, runningRunId }).toEqual({ runningWorkflowType: 'upgradeWorkflow', runningRunId: first.firstExecutionRunId });
      expect(message).toMatch(
        new RegExp(
          `^job '${stack.jobName}' already has an operation running: upgradeWorkflow 'flink-job/${stack.jobName}' ` +
            `\\(run ${first.firstExecutionRunId}, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)\\. Wait for it to finish or cancel it, then start again\\.$`,
        ),
      );

      const cli = await stack.cli(...cliUpgrade('--job-name', stack.jobName));
      expect(cli.code).toBe(1);
      expect(cli.err).toContain(`savepointctl upgrade: job '${stack.jobName}' already has an operation running: upgradeWorkflow`);

      // From the UI with the job's workflow id: Temporal itself refuses the id.
      await expect(
        stack.client.workflow.start('upgradeWorkflow', {
          taskQueue: stack.taskQueue,
          workflowId: operationWorkflowId({ jobName: stack.jobName }),
          args: [upgradeOf()],
        }),
      ).rejects.toThrow(WorkflowExecutionAlreadyStartedError);
    } finally {
      await first.terminate('bad-input test: the first upgrade only held the job');
    }

    expectNothingChanged(before, await world());
  });
});
