// Bad input to a restore, end to end on the real stack: restore points that cannot be restored (a
// tag gone from one of the two tables, savepoint files gone, no such point), input the UI or the
// CLI gets wrong, and answers to a waiting restore from identities that may not give them. Each is
// refused with an error naming the offending input, and nothing changes (world.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPath } from '../../activities/catalog/store';
import { ApprovalRefusedError, restorePlan } from '../../src/client/approval';
import { OperationAlreadyRunningError, startUpgrade } from '../../src/client/start-upgrade';
import { InvalidRestoreInputError, startRestore } from '../../src/client/start-restore';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import { operationWorkflowId } from '../../workflows/messages';
import type { RestoreInput, RestorePointRef } from '../../workflows/restore-input';
import { approveSignal, approveUpdate, restoreStatusQuery, type RestorePlan, type RestoreResult } from '../../workflows/restore-messages';
import type { ApprovalSubject } from '../../workflows/approval-proof';
import { demoScript, deployableDir } from '../support/demo-pipeline';
import { paimonQuery, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import { startBadInputStack, type BadInputStack } from './fixture';
import { activitiesRun, expectUiRefusals, READ_ONLY_ACTIVITIES, refusalOf, refusedAfterReadsOnly } from './refusal';
import { expectNothingChanged, snapshotOfTheWorld, type World } from './world';
import { approveSigned, rejectSigned, testApprovers } from '../support/approvals';

const APPROVER = 'badinput-alice';
const REQUESTER = 'badinput-bob';

let stack: BadInputStack;
/** restorable: tag on both tables, savepoint files present */
let good: TakeSavepointResult;
/** its savepoint directory deleted */
let filesGone: TakeSavepointResult;
/** its tag deleted from seq_b */
let tagGone: TakeSavepointResult;

const world = (): Promise<World> => snapshotOfTheWorld(stack);

const restoreOf = (restorePoint: RestorePointRef, changes: Partial<RestoreInput> = {}): RestoreInput => ({
  job: { jobName: stack.jobName },
  deployment: stack.v1,
  sinkTables: stack.sinks,
  restorePoint,
  options: { approvers: [APPROVER], requestedBy: REQUESTER, approvalTimeout: '10m', healthTimeout: '60s' },
  ...changes,
});

/** Starts the restore through the client; returns how it was refused, after checking it only read. */
async function refusedRestore(input: RestoreInput) {
  const { refusal } = await refusedAfterReadsOnly(await startRestore(stack.client, input, { taskQueue: stack.taskQueue }));
  return refusal;
}

/** A restore point of our job: an intermediate savepoint whose tag is on both tables. */
async function takeSavepoint(label: string): Promise<TakeSavepointResult> {
  const taken: TakeSavepointResult = await stack.client.workflow.execute('takeSavepointWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: unique('badinput-savepoint'),
    args: [{ job: { jobName: stack.jobName }, tables: stack.sinks, options: { label, tagTimeout: '90s' } }],
  });
  stack.savepoints.push(taken.path);
  expect(taken, label).toMatchObject({ restorable: true, missingTags: [] });
  return taken;
}

const cliRestore = (...point: string[]) => [
  'restore', '--job-name', stack.jobName, '--table', stack.sinks.join(','), ...point,
  '--version', 'v1', '--sql-file', (stack.v1 as { scriptFile: string }).scriptFile,
  '--approver', APPROVER, '--requested-by', REQUESTER,
];

describe('bad input to a restore on the real stack: a clear error, nothing changed', () => {
  beforeAll(async () => {
    stack = await startBadInputStack('restore');
    // One after another: savepoints of one job take the job's operation id in turn (one operation per job).
    good = await takeSavepoint('badinput good');
    filesGone = await takeSavepoint('badinput files gone');
    tagGone = await takeSavepoint('badinput tag gone');
    await rm(localPath(filesGone.path, 'savepoint'), { recursive: true });
    await paimonQuery(`CALL sys.delete_tag(\`table\` => '${stack.sinks[1]}', tag => '${tagGone.tag}')`);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('a tag missing on one of two tables: TagMissing naming the table, refused while planning', async () => {
    const before = await world();
    expect(before.tables[stack.sinks[0]!]!.tags).toContain(tagGone.tag);
    expect(before.tables[stack.sinks[1]!]!.tags).not.toContain(tagGone.tag);
    const message =
      `restore point ${tagGone.tag} of job '${stack.jobName}' cannot be restored: tag '${tagGone.tag}' is missing on ${stack.sinks[1]}. ` +
      'Nothing was changed.';

    expect(await refusedRestore(restoreOf({ savepointId: tagGone.savepointId }))).toEqual({ type: 'TagMissing', message });
    expect(await refusedRestore(restoreOf({ tag: tagGone.tag }))).toEqual({ type: 'TagMissing', message });
    const cli = await stack.cli(...cliRestore('--savepoint-id', String(tagGone.savepointId)));
    expect(cli).toMatchObject({ code: 1, err: `savepointctl restore: ${message}` });

    expectNothingChanged(before, await world());
  });

  it('a savepoint path that does not exist: SavepointMissing naming the path; an unknown restore point: RestorePointNotFound', async () => {
    const before = await world();
    // No input takes a savepoint path: it comes from the restore point's record, checked before use.
    expect(await refusedRestore(restoreOf({ savepointId: filesGone.savepointId }))).toEqual({
      type: 'SavepointMissing',
      message:
        `restore point ${filesGone.tag} of job '${stack.jobName}' cannot be restored: savepoint files missing at ${filesGone.path}. ` +
        'Nothing was changed.',
    });
    const unknown = await refusedRestore(restoreOf({ savepointId: 999999 }));
    expect(unknown.type).toBe('RestorePointNotFound');
    expect(unknown.message).toContain(
      `job '${stack.jobName}' has no restore point savepoint-999999 (no record and no tag on the sink tables; known: `,
    );
    expect(unknown.message).toContain(`${tagGone.tag} (not restorable)`);
    expect(unknown.message).toContain(`${filesGone.tag} (not restorable)`);
    expect(unknown.message).toMatch(new RegExp(`[ (]${good.tag}[,)]`));
    const cli = await stack.cli(...cliRestore('--savepoint-id', String(filesGone.savepointId)));
    expect(cli).toMatchObject({ code: 1, err: expect.stringContaining(`savepoint files missing at ${filesGone.path}`) });

    expectNothingChanged(before, await world());
  });

  it("a sink table without 'sink.savepoint.auto-tag': AutoTagDisabled naming it, before the writer is stopped", async () => {
    const before = await world();
    // A version that writes exactly the declared tables, so that the deployment check passes.
    const file = path.join(deployableDir('badinput-restore-'), 'v1-no-autotag.sql');
    writeFileSync(file, demoScript('pipeline-v1.sql', stack.database, stack.jobName).replace(`paimon.${stack.sinks[1]}`, `paimon.${stack.noAutoTag}`));
    const deployment = { kind: 'sql' as const, version: 'v1', scriptFile: file };
    expect(await refusedRestore(restoreOf({ savepointId: good.savepointId }, { deployment, sinkTables: [stack.sinks[0]!, stack.noAutoTag] }))).toEqual({
      type: 'AutoTagDisabled',
      message:
        `sink table(s) without 'sink.savepoint.auto-tag' = 'true': ${stack.noAutoTag}; the writer's savepoint would not be a ` +
        'restore point. Nothing was changed.',
    });
    expectNothingChanged(before, await world());
  });

  it('injection and malformed JSON from the UI or the CLI: refused before anything runs, naming the field', async () => {
    const before = await world();
    const evilTag = `savepoint-1'); CALL sys.rollback_to(\`table\` => '${stack.sinks[0]}', snapshot_id => 1); --`;
    const client = await startRestore(stack.client, restoreOf({ tag: evilTag }), { taskQueue: stack.taskQueue }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(client).toBeInstanceOf(InvalidRestoreInputError);
    const problems = (client as InvalidRestoreInputError).problems;
    expect(problems.join('; ')).toContain("a restore point's tag is written 'savepoint-<id>'");

    const cases: [unknown[], string][] = [
      [[restoreOf({ tag: evilTag })], `invalid restore input: ${problems.join('; ')}`],
      [[{ garbage: true }], 'invalid restore input: job: '],
      [[], 'invalid restore input: input: '],
      [[{ ...restoreOf('latest-restorable'), sinkTables: [`${stack.sinks[0]}; DROP TABLE ${stack.sinks[1]}`] }], "sinkTables[0]: a sink table is written 'database.table'"],
      [[{ ...restoreOf('latest-restorable'), options: { approvers: [] } }], 'options.approvers: give at least one approver'],
      [
        [{ ...restoreOf('latest-restorable'), options: { approvers: [REQUESTER], requestedBy: REQUESTER } }],
        `options.approvers: with fourEyes nobody could approve: the only approver is requestedBy ('${REQUESTER}')`,
      ],
      [[{ ...restoreOf('latest-restorable'), options: { approvers: [APPROVER] } }], 'options.requestedBy: fourEyes needs requestedBy'],
      [
        [{ ...restoreOf('latest-restorable'), options: { approvers: [APPROVER], requestedBy: REQUESTER, approvalTimeout: 'forever' } }],
        `options.approvalTimeout: must be milliseconds or a duration like '2m', more than 0 and at most 24h; got "forever"`,
      ],
    ];
    await expectUiRefusals(stack, 'restoreWorkflow', cases);

    const cli = await stack.cli(...cliRestore('--tag', evilTag));
    expect(cli).toMatchObject({ code: 2, err: `savepointctl restore: ${problems.join('; ')}` });
    const notANumber = await stack.cli(...cliRestore('--savepoint-id', '1 OR 1=1'));
    expect(notANumber).toMatchObject({ code: 2, err: "savepointctl restore: --savepoint-id must be a whole number, got '1 OR 1=1'" });

    expectNothingChanged(before, await world());
  });

  describe('while a valid restore waits for approval', () => {
    let before: World;
    let waiting: WorkflowHandleWithFirstExecutionRunId;
    let plan: RestorePlan;

    beforeAll(async () => {
      before = await world();
      // The requester is an approver too: four-eyes still keeps them from approving their own restore.
      const input = restoreOf({ savepointId: good.savepointId }, { options: { approvers: [APPROVER, REQUESTER], requestedBy: REQUESTER } });
      waiting = await startRestore(stack.client, input, { taskQueue: stack.taskQueue });
      plan = await until('the restore to wait for approval', 90_000, async () =>
        restorePlan(stack.client, { jobName: stack.jobName }).catch(() => undefined),
      );
    });

    afterAll(async () => {
      // Whatever happened above: the waiting restore must not outlive the suite.
      await waiting?.terminate('bad-input test cleanup').catch(() => undefined);
    });

    const stillWaiting = async () => {
      expect((await waiting.query(restoreStatusQuery)).step).toBe('awaiting-approval');
    };

    it('an approval from a disallowed identity is refused with the reason, not recorded; the restore still waits', async () => {
      expect(plan).toMatchObject({ version: 1, writer: { jobId: stack.jobId, action: 'stop-with-savepoint' } });
      const job = { jobName: stack.jobName };
      const refused = async (answer: Promise<unknown>) => {
        const err = await answer.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ApprovalRefusedError);
        return (err as ApprovalRefusedError).message;
      };
      const id = operationWorkflowId(job);

      expect(await refused(approveSigned(stack.client, job, { approver: 'mallory' }))).toBe(
        `the restore ${id} refused this: 'mallory' is not an approver of this restore (approvers: ${APPROVER}, ${REQUESTER})`,
      );
      expect(await refused(approveSigned(stack.client, job, { approver: REQUESTER }))).toBe(
        `the restore ${id} refused this: four-eyes: '${REQUESTER}' asked for this restore and cannot approve it too`,
      );
      expect(await refused(approveSigned(stack.client, job, { approver: '  ' }))).toBe(
        `the restore ${id} refused this: an approval names its approver (a non-empty identity)`,
      );
      expect(await refused(approveSigned(stack.client, job, { approver: APPROVER, planVersion: 7 }))).toBe(
        `the restore ${id} refused this: plan version 7 was reviewed, but the plan is now version 1: review the new plan (query 'plan')`,
      );
      expect(await refused(rejectSigned(stack.client, job, { approver: 'mallory' }))).toContain("'mallory' is not an approver");
      // The UI's update form with a wrongly shaped answer, and the signal form from a wrong identity.
      const ui = await refusalOf(waiting.executeUpdate('approve', { args: [{ who: APPROVER }] }));
      expect(ui).toEqual({ type: 'ApprovalRefused', message: 'an approval names its approver (a non-empty identity)' });
      await waiting.signal(approveSignal, { approver: 'mallory' });
      const cli = await stack.cli('approve', stack.jobName, '--as', 'mallory', '--key', testApprovers().keyFile('mallory'));
      expect(cli).toMatchObject({ code: 1, err: `savepointctl approve: the restore ${id} refused this: 'mallory' is not an approver of this restore (approvers: ${APPROVER}, ${REQUESTER})` });

      await stillWaiting();
      const history = await waiting.fetchHistory();
      expect((history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
      expect((await activitiesRun(waiting)).filter((a) => !READ_ONLY_ACTIVITIES.has(a))).toEqual([]);
      expectNothingChanged(before, await world());
    });

    it('signatures: a forged identity, the requester as another, a wrong key, another plan version or run, a removed key, a malformed signature: refused, never recorded', async () => {
      const job = { jobName: stack.jobName };
      const id = operationWorkflowId(job);
      const ring = testApprovers();
      const subject: ApprovalSubject = {
        decision: 'approve',
        approver: APPROVER,
        workflowId: id,
        runId: waiting.firstExecutionRunId,
        planVersion: plan.version,
        planDigest: plan.digest!,
      };
      const send = async (signature: string, approver = APPROVER) =>
        (await refusalOf(waiting.executeUpdate(approveUpdate, { args: [{ approver, planVersion: plan.version, signature }] })))?.message;
      // Another run under this workflow id: one of the restores refused earlier in this file.
      const runs: string[] = [];
      for await (const wf of stack.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(wf.runId);
      const otherRun = runs.find((r) => r !== waiting.firstExecutionRunId);
      expect(otherRun).toBeDefined();

      const refused: Record<string, string | undefined> = {
        forged: await send(ring.sign('mallory', subject)),
        requesterAsAnother: await send(ring.sign(REQUESTER, subject)),
        wrongKey: await send(ring.sign('alice', subject)),
        otherVersion: await send(ring.sign(APPROVER, { ...subject, planVersion: plan.version + 1 })),
        otherRun: await send(ring.sign(APPROVER, { ...subject, runId: otherRun! })),
        otherPlan: await send(ring.sign(APPROVER, { ...subject, planDigest: `sha256:${'0'.repeat(64)}` })),
        malformed: await send(ring.sign(APPROVER, subject).slice(0, 120) + '\n-----END SSH SIGNATURE-----\n'),
        unsigned: await send(''),
      };
      expect(refused.forged).toMatch(new RegExp(`^key SHA256:\\S+ may not sign as '${APPROVER}': the allowed signers do not list this key`));
      expect(refused.requesterAsAnother).toMatch(new RegExp(`may not sign as '${APPROVER}'`));
      expect(refused.wrongKey).toMatch(new RegExp(`may not sign as '${APPROVER}'`));
      for (const other of [refused.otherVersion, refused.otherRun, refused.otherPlan]) {
        expect(other).toContain(`does not match this approval by '${APPROVER}' of plan v${plan.version} (digest ${plan.digest}) of run ${waiting.firstExecutionRunId}`);
      }
      expect(refused.malformed).toMatch(/^malformed signature: /);
      expect(refused.unsigned).toMatch(/^an approval needs the approver's SSH signature/);

      // The approver's key removed from the worker's file: refused from then on; put back, counted again.
      const status = async () => (await waiting.query(restoreStatusQuery)).approverKeys!;
      const keysBefore = await status();
      expect(keysBefore.principals).toContain(APPROVER);
      const allowed = readFileSync(ring.allowedSigners, 'utf8');
      ring.writeAllowed(allowed.split('\n').filter((l) => l !== '' && !l.startsWith(`${APPROVER} `)));
      try {
        const without = await until('the worker to re-read the allowed-signers file', 30_000, async () => {
          const now = await status();
          return now.version !== keysBefore.version ? now : undefined;
        });
        expect(without.principals).not.toContain(APPROVER);
        refused.removed = await send(ring.sign(APPROVER, subject));
        expect(refused.removed).toMatch(new RegExp(`may not sign as '${APPROVER}': the allowed signers do not list this key`));
      } finally {
        writeFileSync(ring.allowedSigners, allowed);
      }
      await until('the key to be back', 30_000, async () => ((await status()).version === keysBefore.version ? true : undefined));

      await stillWaiting();
      // Not one of them entered the history.
      const history = await waiting.fetchHistory();
      expect((history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
      expectNothingChanged(before, await world());
    });

    it('a second operation on the job while the restore waits: refused, naming the restore', async () => {
      const refusal = async (start: Promise<unknown>) => {
        const err = await start.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(OperationAlreadyRunningError);
        return err as OperationAlreadyRunningError;
      };
      const expected = new RegExp(
        `^job '${stack.jobName}' already has an operation running: restoreWorkflow 'flink-job/${stack.jobName}' ` +
          `\\(run ${waiting.firstExecutionRunId}, started [0-9T:.-]+Z\\)\\. Wait for it to finish or cancel it, then start again\\.$`,
      );
      const upgrade = await refusal(
        startUpgrade(
          stack.client,
          { job: { jobName: stack.jobName }, newVersion: stack.v2, oldVersion: stack.v1, sinkTables: stack.sinks },
          { taskQueue: stack.taskQueue },
        ),
      );
      expect(upgrade.message).toMatch(expected);
      expect(upgrade.runningWorkflowType).toBe('restoreWorkflow');
      const second = await refusal(startRestore(stack.client, restoreOf({ savepointId: good.savepointId }), { taskQueue: stack.taskQueue }));
      expect(second.message).toMatch(expected);
      const cli = await stack.cli(...cliRestore('--savepoint-id', String(good.savepointId)));
      expect(cli.code).toBe(1);
      expect(cli.err).toContain(`savepointctl restore: job '${stack.jobName}' already has an operation running: restoreWorkflow`);
      // The same job by its id: keyed by its name all the same (#16: an upgrade by --job-id ran beside this restore).
      const byId = await refusal(
        startUpgrade(
          stack.client,
          { job: { jobId: stack.jobId }, newVersion: stack.v2, oldVersion: stack.v1, sinkTables: stack.sinks },
          { taskQueue: stack.taskQueue },
        ),
      );
      expect(byId.message).toMatch(expected);
      const cliById = await stack.cli(
        'upgrade', '--job-id', stack.jobId, '--table', stack.sinks.join(','),
        '--new-version', 'v2', '--new-sql-file', (stack.v2 as { scriptFile: string }).scriptFile,
        '--old-version', 'v1', '--old-sql-file', (stack.v1 as { scriptFile: string }).scriptFile,
      );
      expect(cliById.code).toBe(1);
      expect(cliById.err).toContain(`savepointctl upgrade: job '${stack.jobName}' already has an operation running: restoreWorkflow 'flink-job/${stack.jobName}'`);
      // Typed into the UI under the id the job was given by: it reads the job's name and stops there.
      const ui = await stack.client.workflow.start('upgradeWorkflow', {
        taskQueue: stack.taskQueue,
        workflowId: `flink-job/${stack.jobId}`,
        args: [{ job: { jobId: stack.jobId }, newVersion: stack.v2, oldVersion: stack.v1, sinkTables: stack.sinks }],
      });
      expect(await refusalOf(ui.result())).toMatchObject({ type: 'InvalidInput', message: expect.stringContaining(`must run as 'flink-job/${stack.jobName}'`) });
      expect(await activitiesRun(ui)).toEqual(['resolveJob']);

      await stillWaiting();
      expectNothingChanged(before, await world());
    });

    it('the approver rejects it: the restore ends rejected, and still nothing changed', async () => {
      await rejectSigned(stack.client, { jobName: stack.jobName }, { approver: APPROVER, comment: 'bad-input suite cleanup' });
      const result: RestoreResult = await waiting.result();
      expect(result).toMatchObject({ status: 'rejected', rejection: { rejectedBy: APPROVER } });
      expectNothingChanged(before, await world());
    });
  });
});
