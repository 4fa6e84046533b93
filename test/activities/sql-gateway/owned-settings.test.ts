// What a script may not SET because the operation decides it (the savepoint the job starts from, the
// state it may drop, who owns the savepoint, the job's marker), in each way Flink SQL writes a SET.
import { describe, expect, it } from 'vitest';
import { ownedSettingsProblem } from '../../../activities/sql-gateway/owned-settings';

describe('settings the operation owns', () => {
  it('refuses the savepoint path under both of its names, quoted or not', () => {
    for (const statement of [
      "SET 'execution.state-recovery.path' = 'file:/old/savepoint-1'",
      'SET `execution.state-recovery.path` = `file:/old/savepoint-1`;',
      'set execution.savepoint.path = file:/old/savepoint-1',
      "SET 'EXECUTION.SAVEPOINT.PATH'='file:/old/savepoint-1'",
    ]) {
      const problem = ownedSettingsProblem(["SET 'pipeline.name' = 'x'", statement, 'INSERT INTO t SELECT 1']);
      expect(problem, statement).toMatch(/= 'file:\/old\/savepoint-1': the operation starts the job from the savepoint that matches the tables' tag; remove this SET$/);
    }
  });

  it('refuses dropping unclaimed state, CLAIM mode and the job marker; names each one', () => {
    const problem = ownedSettingsProblem([
      "SET 'execution.savepoint.ignore-unclaimed-state' = 'true'",
      "SET 'execution.state-recovery.claim-mode' = 'claim'",
      "SET 'pipeline.global-job-parameters' = 'env:prod'",
    ]);
    expect(problem).toContain("it sets 'execution.savepoint.ignore-unclaimed-state' = 'true': set it with the operation's allowNonRestoredState option instead");
    expect(problem).toContain("it sets 'execution.state-recovery.claim-mode' = 'claim': in CLAIM mode Flink owns the savepoint");
    expect(problem).toContain("it sets 'pipeline.global-job-parameters' = 'env:prod': the operation sets it to mark the job it starts");
    expect(problem!.split('; it sets')).toHaveLength(3);
  });

  it('lets through what the job may choose: NO_CLAIM, RESET, other keys, and the key named where it is not set', () => {
    expect(
      ownedSettingsProblem([
        "SET 'execution.state-recovery.claim-mode' = 'NO_CLAIM'",
        "SET 'execution.savepoint-restore-mode' = 'LEGACY'",
        "RESET 'execution.state-recovery.path'",
        "SET 'parallelism.default' = '2'",
        "SET 'pipeline.name' = 'execution.savepoint.path'",
        "INSERT INTO t SELECT 'execution.state-recovery.path'",
      ]),
    ).toBeUndefined();
  });
});
