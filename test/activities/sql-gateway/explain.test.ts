// The pure parts of the SQL deployment check: which statement is EXPLAINed, which sinks a plan
// names, and how a planner error reads. The real gateway's answers are in test/bad-input/checks-before-stop.
import { describe, expect, it } from 'vitest';
import { explainStatementOf, plannerMessage, sinksOfPlan } from '../../../activities/sql-gateway/explain';

// EXPLAIN of a two-INSERT statement set as Flink 1.20.3's gateway answered it (trimmed).
const PLAN = `== Abstract Syntax Tree ==
LogicalSink(table=[paimon.t16_probe.seq_a], fields=[id, EXPR$1])
+- LogicalTableScan(table=[[default_catalog, default_database, demo_sequence]])

LogicalSink(table=[paimon.t16_probe.seq_b], fields=[id, EXPR$1])

== Optimized Physical Plan ==
Sink(table=[paimon.t16_probe.seq_a], fields=[id, EXPR$1])
+- Calc(select=[id, 'x' AS EXPR$1])
   +- TableSourceScan(table=[[default_catalog, default_database, demo_sequence]], fields=[id])

Sink(table=[paimon.\`t16_probe\`.\`seq-b\`], fields=[id, EXPR$1])
+- Calc(select=[id, _UTF-16LE'x' AS EXPR$1])

== Optimized Execution Plan ==
Sink(table=[paimon.t16_probe.only_in_execution_plan], fields=[id, EXPR$1])
`;

describe('the SQL deployment check', () => {
  it('EXPLAINs an INSERT, an EXECUTE INSERT and an EXECUTE STATEMENT SET without running them', () => {
    expect(explainStatementOf('INSERT INTO t SELECT 1')).toBe('EXPLAIN INSERT INTO t SELECT 1');
    expect(explainStatementOf('EXECUTE INSERT INTO t SELECT 1')).toBe('EXPLAIN INSERT INTO t SELECT 1');
    expect(explainStatementOf('EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; END')).toBe(
      'EXPLAIN STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; END',
    );
  });

  it("reads the sinks from the optimized physical plan's Sink lines, backticks dropped, each once", () => {
    expect(sinksOfPlan(PLAN)).toEqual(['paimon.t16_probe.seq-b', 'paimon.t16_probe.seq_a']);
    expect(sinksOfPlan('== Optimized Physical Plan ==\nCalc(select=[id])\n== Optimized Execution Plan ==\n')).toEqual([]);
  });

  it("puts the planner's root cause first and names the statement it came from", () => {
    expect(
      plannerMessage(
        "the SQL gateway rejected EXPLAIN STATEMENT SET BEGIN: SqlValidatorException: Column 'nope' not found in any table",
      ),
    ).toBe("SqlValidatorException: Column 'nope' not found in any table (in: EXPLAIN STATEMENT SET BEGIN)");
    expect(plannerMessage('the SQL gateway rejected SET x: something odd')).toBe('SET x: something odd');
  });
});
