// Which job name a SQL deploy's duplicate check narrows the cluster's jobs to (the lookup itself
// runs against the real stack in deploy.test.ts).
import { describe, expect, it } from 'vitest';
import { pipelineNameOf } from '../../../activities/flink/earlier-deploy';
import { splitSqlScript } from '../../../activities/sql-gateway/script';

const isJob = (s: string) => /^(INSERT|EXECUTE|SELECT|WITH)\b/i.test(s);
const nameOf = (script: string) => pipelineNameOf(splitSqlScript(script), isJob);

describe('pipelineNameOf', () => {
  it("is the last SET 'pipeline.name' before the job statement", () => {
    expect(nameOf("SET 'pipeline.name' = 'a';\nSET 'pipeline.name' = 'b';\nINSERT INTO t SELECT 1;\nSET 'pipeline.name' = 'c';")).toBe('b');
    expect(nameOf("set 'pipeline.name'='it''s';\nEXECUTE STATEMENT SET BEGIN INSERT INTO t SELECT 1; END;")).toBe("it's");
  });

  it('is unknown when the script leaves the name to Flink or changes it in a form not read here', () => {
    expect(nameOf('INSERT INTO t SELECT 1;')).toBeUndefined();
    expect(nameOf("SET 'pipeline.name' = 'a';\nRESET 'pipeline.name';\nINSERT INTO t SELECT 1;")).toBeUndefined();
    expect(nameOf("SET pipeline.name = a;\nINSERT INTO t SELECT 1;")).toBeUndefined();
  });

  it('ignores other settings', () => {
    expect(nameOf("SET 'pipeline.name' = 'a';\nSET 'parallelism.default' = '2';\nINSERT INTO t SELECT 1;")).toBe('a');
  });
});
