// Splits a Flink SQL script into the statements the SQL gateway takes one at a time.

// The SQL client's older `BEGIN STATEMENT SET; ...; END;` is interactive only: the gateway answers
// "only single statement supported", so only this form is kept together.
const STATEMENT_SET_START = /^EXECUTE\s+STATEMENT\s+SET\s+BEGIN\b/i;

/**
 * Statements end at `;` outside quotes. `EXECUTE STATEMENT SET BEGIN ... END;` stays one
 * statement (its inner `;` included), because the gateway plans the INSERTs of a set as one job.
 * `--` line comments and `/* *\/` block comments are dropped; the returned statements carry no
 * trailing `;`.
 */
export function splitSqlScript(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let inSet = false;
  let setPartStart = 0; // where the current part of a statement set starts within `current`

  const flush = () => {
    const statement = current.trim();
    if (statement !== '') statements.push(statement);
    current = '';
    inSet = false;
    setPartStart = 0;
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end - 1;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 1;
      current += ' ';
      continue;
    }
    if (c === "'" || c === '`' || c === '"') {
      // SQL escapes a quote by doubling it, which this loop handles as close-then-open.
      const end = text.indexOf(c, i + 1);
      const stop = end === -1 ? text.length : end + 1;
      current += text.slice(i, stop);
      i = stop - 1;
      continue;
    }
    if (c !== ';') {
      current += c;
      continue;
    }
    if (!inSet && STATEMENT_SET_START.test(current.trim())) inSet = true;
    if (!inSet) {
      flush();
      continue;
    }
    if (/^END$/i.test(current.slice(setPartStart).trim())) {
      flush();
      continue;
    }
    current += ';';
    setPartStart = current.length;
  }
  if (inSet && !/^END$/i.test(current.slice(setPartStart).trim())) {
    throw new Error(`the SQL script has a statement set without its END: ${current.trim().slice(0, 120)}`);
  }
  flush();
  return statements;
}
