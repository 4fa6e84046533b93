// splitSqlScript: statements as the SQL gateway takes them, one at a time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitSqlScript } from '../../../activities/sql-gateway/script';
import { repoRoot } from '../../../src/config/repo-root';

describe('splitSqlScript', () => {
  it('splits the demo pipeline into SET, CREATE and one statement set, without comments', () => {
    const text = readFileSync(path.join(repoRoot(), 'demo', 'sql', 'pipeline-v1.sql'), 'utf8');
    const statements = splitSqlScript(text);
    expect(statements).toHaveLength(3);
    expect(statements[0]).toBe("SET 'pipeline.name' = 'paimon-demo'");
    expect(statements[1]).toMatch(/^CREATE TEMPORARY TABLE demo_sequence/);
    expect(statements[2]).toMatch(/^EXECUTE STATEMENT SET BEGIN\n\s+INSERT INTO paimon\.demo\.seq_a .*;\n\s+INSERT INTO paimon\.demo\.seq_b .*;\nEND$/);
    expect(statements.join('\n')).not.toContain('--');
  });

  it("keeps ';' and '--' inside quotes, and drops comments anywhere else", () => {
    const text = [
      '-- leading comment; with a semicolon',
      "SELECT 'a;b' AS x, 'it''s -- not a comment' AS y; -- trailing",
      '/* block; comment */ SELECT `odd;name` FROM t;',
      'SELECT "q;q"',
    ].join('\n');
    expect(splitSqlScript(text)).toEqual([
      "SELECT 'a;b' AS x, 'it''s -- not a comment' AS y",
      'SELECT `odd;name` FROM t',
      'SELECT "q;q"',
    ]);
  });

  it('keeps only EXECUTE STATEMENT SET together, and a final END may lack its semicolon', () => {
    const text = 'EXECUTE STATEMENT SET BEGIN\nINSERT INTO a SELECT 1;\nINSERT INTO b SELECT 2;\nEND';
    expect(splitSqlScript(text)).toEqual([text]);
    // the SQL client's interactive form is not one statement for the gateway
    expect(splitSqlScript('BEGIN STATEMENT SET;\nINSERT INTO a SELECT 1;\nEND;')).toHaveLength(3);
  });

  it('returns nothing for a script of comments and blank lines', () => {
    expect(splitSqlScript('-- only\n\n  ;\n/* x */')).toEqual([]);
  });

  it('refuses a statement set without END', () => {
    expect(() => splitSqlScript('EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1;')).toThrow(/without its END/);
  });
});
