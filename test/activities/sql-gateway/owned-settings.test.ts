// What a script may not SET because the operation decides it (the savepoint the job starts from, the
// state it may drop, who owns the savepoint, the job's marker), in each way Flink SQL writes a SET,
// and the job parameters a script sets with the deploy's marker added.
import { describe, expect, it } from 'vitest';
import { ownedSettingsProblem, withDeployMarker } from '../../../activities/sql-gateway/owned-settings';
import { splitSqlScript } from '../../../activities/sql-gateway/script';

const MARKER = 'flink-paimon-ops.deploy-id';

describe('settings the operation owns', () => {
  it('refuses the savepoint path under both of its names, quoted or not', () => {
    for (const statement of [
      "SET 'execution.state-recovery.path' = 'file:/old/savepoint-1'",
      'SET `execution.state-recovery.path` = `file:/old/savepoint-1`;',
      'set execution.savepoint.path = file:/old/savepoint-1',
      "SET 'EXECUTION.SAVEPOINT.PATH'='file:/old/savepoint-1'",
    ]) {
      const problem = ownedSettingsProblem(["SET 'pipeline.name' = 'x'", statement, 'INSERT INTO t SELECT 1'], MARKER);
      expect(problem, statement).toMatch(/= 'file:\/old\/savepoint-1': the operation starts the job from the savepoint that matches the tables' tag; remove this SET$/);
    }
    // As the deploy reads a file: comments dropped, statements split.
    const script = "-- restored by hand, 2026-11-30\nSET /* the old one */ 'execution.savepoint.path' = 'file:/old/savepoint-1';\nINSERT INTO t SELECT 1;";
    expect(ownedSettingsProblem(splitSqlScript(script), MARKER)).toContain("it sets 'execution.savepoint.path' = 'file:/old/savepoint-1'");
  });

  it('refuses dropping unclaimed state, CLAIM mode and job parameters that name the marker; names each one', () => {
    const problem = ownedSettingsProblem(
      [
        "SET 'execution.savepoint.ignore-unclaimed-state' = 'true'",
        "SET 'execution.state-recovery.claim-mode' = 'claim'",
        `SET 'pipeline.global-job-parameters' = 'env:prod,${MARKER}:mine'`,
      ],
      MARKER,
    );
    expect(problem).toContain("it sets 'execution.savepoint.ignore-unclaimed-state' = 'true': set it with the operation's allowNonRestoredState option instead");
    expect(problem).toContain("it sets 'execution.state-recovery.claim-mode' = 'claim': in CLAIM mode Flink owns the savepoint");
    expect(problem).toContain(
      `it sets 'pipeline.global-job-parameters' = 'env:prod,${MARKER}:mine': ${MARKER} is the operation's marker of the job it starts; leave it out`,
    );
    expect(problem!.split('; it sets')).toHaveLength(3);
  });

  it('lets through what the job may choose: NO_CLAIM, RESET, its own job parameters, other keys, and the keys named where they are not set', () => {
    expect(
      ownedSettingsProblem(
        [
          "SET 'execution.state-recovery.claim-mode' = 'NO_CLAIM'",
          "SET 'execution.savepoint-restore-mode' = 'LEGACY'",
          "RESET 'execution.state-recovery.path'",
          "SET 'pipeline.global-job-parameters' = 'env:prod'",
          "SET 'parallelism.default' = '2'",
          "SET 'pipeline.name' = 'execution.savepoint.path'",
          "INSERT INTO t SELECT 'execution.state-recovery.path'",
        ],
        MARKER,
      ),
    ).toBeUndefined();
  });

  it("adds the deploy's marker to the job parameters a script sets, in the script's own quoting", () => {
    const script = [
      "SET 'pipeline.name' = 'x'",
      "SET 'pipeline.global-job-parameters' = 'env:prod,team:''a'''",
      'SET `pipeline.global-job-parameters` = ``',
      'INSERT INTO t SELECT 1',
    ];
    expect(withDeployMarker(script, MARKER, 'd1')).toEqual([
      "SET 'pipeline.name' = 'x'",
      `SET 'pipeline.global-job-parameters' = 'env:prod,team:''a'',${MARKER}:d1'`,
      `SET \`pipeline.global-job-parameters\` = \`${MARKER}:d1\``,
      'INSERT INTO t SELECT 1',
    ]);
  });
});
