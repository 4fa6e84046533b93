// savepointctl status and results for people, from statuses as the workflows record them: one
// screen, every part once, no JSON objects, figures named one way, plans of earlier releases
// readable, text meant for a failure only when it failed.
import { describe, expect, it } from 'vitest';
import { describePlan, rolledBackLine } from '../../src/cli/views/plan';
import { statusLines } from '../../src/cli/views/status';
import { upgradeSummary } from '../../src/cli/views/upgrade';
import type { UpgradeResult } from '../../workflows/messages';
import type { RestorePlan, RestoreResult } from '../../workflows/restore-messages';

const TABLES = ['demo.seq_a', 'demo.seq_b'];
const at = (s: number) => new Date(Date.UTC(2026, 11, 6, 9, 0, s)).toISOString();

function plan(version: number, overrides: Partial<RestorePlan> = {}): RestorePlan {
  const undo =
    "Before the rollback every sink table gets branch 'before_restore_1a2b3c4d' on its latest snapshot. To undo the restore: stop the job, copy the rows back " +
    TABLES.map((t) => `INSERT OVERWRITE ${t} SELECT * FROM ${t}$branch_before_restore_1a2b3c4d`).join('; ');
  return {
    version,
    plannedAt: at(1),
    job: 'me-full',
    writer: { jobId: 'a'.repeat(32), state: 'RUNNING', action: 'stop-with-savepoint' },
    restorePoint: { savepointId: 12, tag: 'savepoint-12', path: 'file:/sp/savepoint-12', createdAt: at(0), label: 'before release', recorded: true },
    deploymentVersion: 'v1',
    tables: TABLES.map((table) => ({
      table,
      tagSnapshotId: 40,
      tagSchemaId: 0,
      recordsAtTag: 400,
      latestSnapshotId: 83,
      recordsNow: 830,
      snapshotsDeleted: 43,
      tagsDeleted: [{ tag: 'savepoint-13', snapshotId: 60 }],
      restorePointsLost: ['savepoint-13'],
    })),
    readers: [],
    undo,
    irreversible: 'rollback_to deletes these tags for good: savepoint-13 on demo.seq_a, savepoint-13 on demo.seq_b.',
    summary: "Plan v1 for job 'me-full': stop job aaaa with a savepoint; roll 2 table(s) back to savepoint-12 ...",
    ...overrides,
  };
}

function finishedRestore(): RestoreResult {
  const steps = ['validating-input', 'planning', 'awaiting-approval', 're-planning', 'stopping-writer', 'awaiting-savepoint-tag', 'creating-undo-branches', 'rolling-back-tables', 'deploying', 'awaiting-health'];
  const p = plan(1);
  return {
    status: 'restored',
    step: 'restored',
    job: 'me-full',
    timings: [...steps.map((step, i) => ({ step: step as never, startedAt: at(i * 3), durationMs: 3000 })), { step: 'restored', startedAt: at(30), durationMs: 0 }],
    plan: p,
    approval: { approver: 'alice', comment: 'release rollback', planVersion: 1, via: 'update', at: at(8), proof: { kind: 'ssh-signature', key: 'SHA256:abc', planDigest: 'sha256:9f2c' } },
    todaysSavepoint: { savepointId: 15, path: 'file:/sp/savepoint-15', tag: 'savepoint-15' },
    undo: { branch: 'before_restore_1a2b3c4d', tag: 'savepoint-15', instructions: `${p.undo} Today's savepoint: file:/sp/savepoint-15.` },
    tables: TABLES.map((table) => ({
      table,
      rolledBack: true,
      snapshotId: 40,
      schemaId: 0,
      records: 400,
      previousSnapshotId: 89,
      snapshotsDeleted: 49,
      tagsDeleted: ['savepoint-13', 'savepoint-15'],
    })),
    newJobId: 'b'.repeat(32),
    restorePointsMarkedLost: [{ savepointId: 13, path: 'file:/sp/savepoint-13' }],
    writerParallelism: { parallelism: 2 },
  } as unknown as RestoreResult;
}

/** Terminal rows at 120 columns. */
const rows = (lines: string[]) => lines.reduce((n, l) => n + Math.max(1, Math.ceil(l.length / 120)), 0);
const count = (text: string, what: RegExp) => (text.match(new RegExp(what, 'gm')) ?? []).length;

describe('savepointctl status for people', () => {
  const view = (state: unknown, extra: Partial<Parameters<typeof statusLines>[0]> = {}) =>
    statusLines({ type: 'restoreWorkflow', workflowId: 'flink-job/me-full', execution: 'COMPLETED', url: 'http://ui/wf', state: state as Record<string, unknown>, ...extra });

  it('a finished restore fits one screen: outcome, steps, restore point, today\'s savepoint, approval, new job, tables, undo once, no JSON', () => {
    const lines = view(finishedRestore());
    const text = lines.join('\n');
    expect(rows(lines)).toBeLessThanOrEqual(40);
    expect(lines[0]).toBe('restoreWorkflow flink-job/me-full: COMPLETED, restored');
    expect(text).toMatch(/^ {2}step: restored; started .*, took 30s$/m);
    expect(text).toMatch(/^ {4}rolling-back-tables\s+09:00:21Z\s+3s$/m);
    expect(text).toContain("  restore point: savepoint 12 (savepoint-12) at file:/sp/savepoint-12 'before release'");
    expect(text).toContain("  today's savepoint: 15 (savepoint-15) at file:/sp/savepoint-15");
    // Fields a release adds to the approval (proven, the plan's digest) are printed as they come.
    expect(text).toMatch(/^ {2}approved: plan v1 by alice at .* \(by update\) \("release rollback"\); proven by key SHA256:abc over plan digest sha256:9f2c$/m);
    expect(text).toContain(`  new job: ${'b'.repeat(32)} (v1)`);
    // What the rollback did, counted when it ran, not the plan's 43.
    expect(text).toContain('    demo.seq_a: rolled back from snapshot 89 to snapshot 40 (400 records in data files); deleted 49 snapshot(s) and 2 tag(s) (savepoint-13, savepoint-15)');
    expect(text).toContain('  restore points lost with the rollback: 13');
    expect(count(text, /undo:/)).toBe(1);
    expect(count(text, /INSERT OVERWRITE demo\.seq_a/)).toBe(1);
    expect(text).toContain('  plan: v1, made'); // once, in one line
    expect(text).not.toContain('43 snapshot');
    expect(text).not.toMatch(/[{}[\]]"|"\w+":/);
    expect(text).not.toMatch(/\browsr?\b(?! back)/);
    expect(text).not.toContain('writerParallelism');
  });

  it('--verbose adds the rest in words, and the plan (its figures marked as estimates), still with the undo once', () => {
    const text = view(finishedRestore(), { verbose: true }).join('\n');
    expect(text).toContain('  writerParallelism: parallelism 2');
    expect(text).toContain('  plan v1 for job \'me-full\'');
    expect(text).toMatch(/demo\.seq_a: snapshot 83 -> 40; deletes about 43 snapshot\(s\) and 1 tag\(s\) \(savepoint-13\), plus today's savepoint tag; .*\[estimate until the writer stops\]/);
    expect(count(text, /INSERT OVERWRITE demo\.seq_a/)).toBe(1);
    expect(text).not.toMatch(/[{}[\]]"|"\w+":/);
  });

  it('a restore waiting for approval shows the plan once, with the undo, and the step as now', () => {
    const waiting = { step: 'awaiting-approval', job: 'me-full', timings: [{ step: 'planning', startedAt: at(0), durationMs: 4000 }, { step: 'awaiting-approval', startedAt: at(4) }], plan: plan(1) };
    const lines = view(waiting, { execution: 'RUNNING' });
    const text = lines.join('\n');
    expect(rows(lines)).toBeLessThanOrEqual(40);
    expect(lines[0]).toBe('restoreWorkflow flink-job/me-full: RUNNING');
    expect(text).toMatch(/^ {2}step: awaiting-approval \(since 09:00:04Z\)/m);
    expect(text).toMatch(/awaiting-approval\s+09:00:04Z\s+\(now\)/);
    expect(count(text, /plan v1 for job/)).toBe(1);
    expect(count(text, /undo:/)).toBe(1);
    expect(text).toContain('records in data files: every version of a key until compaction, not rows');
  });

  it('a run refused before the stop says why (from its failure, or the memo)', () => {
    const refused = { step: 'preflight', job: 'me-full', timings: [{ step: 'validating-input', startedAt: at(0), durationMs: 10 }, { step: 'preflight', startedAt: at(0) }] };
    const why = "checked before anything is stopped: v2: scriptFile missing.sql does not exist. Nothing was changed.";
    const text = statusLines({ type: 'upgradeWorkflow', workflowId: 'flink-job/me-full', execution: 'FAILED', url: 'u', state: refused, failure: why }).join('\n');
    expect(text).toMatch(/^upgradeWorkflow flink-job\/me-full: FAILED$/m);
    expect(text).toContain(`  reason: ${why}`);
    expect(text).toMatch(/preflight\s+09:00:00Z\s+\(ended here\)/);
    const fromMemo = statusLines({ type: 'upgradeWorkflow', workflowId: 'w', execution: 'FAILED', url: 'u', state: refused, memo: { outcome: 'failed', reason: why } });
    expect(fromMemo.join('\n')).toContain(`  reason: ${why}`);
  });

  it('a plan recorded by an earlier release (no record counts, no lost points) is read without question marks', () => {
    const old = plan(1);
    for (const t of old.tables as unknown as Record<string, unknown>[]) {
      delete t.recordsNow;
      delete t.recordsAtTag;
      delete t.restorePointsLost;
    }
    const text = describePlan({ ...old, writer: { jobId: 'a'.repeat(32), action: 'none', stoppedByRestore: true } });
    expect(text).not.toContain('?');
    expect(text).toContain('demo.seq_a: snapshot 83 -> 40; deletes 43 snapshot(s) and 1 tag(s) (savepoint-13)');
    expect(text).not.toContain('estimate');
    // A result of an earlier release counted nothing, and said rows from COUNT(*): both read plainly.
    expect(rolledBackLine({ table: 'demo.seq_a', rolledBack: true, snapshotId: 40, rowCount: 17 })).toBe(
      'demo.seq_a: rolled back to snapshot 40 (COUNT(*) 17, checked by a release before metadata checks)',
    );
  });
});

describe('upgrade result', () => {
  const sqlCheck =
    "state not checked before the stop: Flink builds a SQL job's graph, and so its operator ids, only when it runs the job. " +
    'When v2 starts, Flink refuses savepoint state it cannot map and the old version runs again from the savepoint.';
  const result = (status: UpgradeResult['status']): UpgradeResult => ({ status, step: status, job: 'me-full', timings: [], stateCheck: sqlCheck, oldJobId: 'a', newJobId: 'b' });

  it('says what happens to unmapped state only when the upgrade did not go through', () => {
    expect(upgradeSummary(result('upgraded'))).not.toContain('Flink refuses savepoint state');
    expect(upgradeSummary(result('upgraded'))).toContain('It started from the savepoint with its state.');
    expect(upgradeSummary(result('rolled-back'))).toContain('When v2 starts, Flink refuses savepoint state it cannot map');
  });
});
