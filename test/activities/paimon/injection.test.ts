// Identifier checks come before anything reaches SQL: every name position of every activity
// refuses injection attempts with InvalidIdentifier, and no session is opened, no statement sent.
// The victim table and its tag are still there afterwards, checked on the real stack.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PaimonActivities } from '../../../activities/contract';
import { requireStack } from '../../support/stack';
import {
  CountingGateway,
  createTable,
  expectFatal,
  freshDatabase,
  insertRows,
  paimonActivities,
  run,
  tableExists,
  tagNames,
} from '../../support/paimon-fixtures';

const DB = 'paimontest_injection';
const VICTIM = `${DB}.victim`;

const BAD_TABLES = [
  `${DB}.victim\`; DROP TABLE \`${DB}\`.\`victim\`; --`,
  `x\`; DROP DATABASE \`${DB}\` CASCADE; --.victim`,
  `${DB}.victim$tags`, // a system table is not a sink table
  `${DB}.victim') ; CALL sys.delete_tag(\`table\` => '${DB}.victim', tag => 'keep'); --`,
  `paimon.${DB}.victim`, // three parts
  `${DB}.victim `,
  `${DB}.victim\n`,
  `${DB}.vіctim`, // Cyrillic і
  `${DB}.`,
  `${DB}.${'t'.repeat(129)}`,
  '',
];

const BAD_TAGS = [
  "keep'); CALL sys.delete_tag(`table` => 'paimontest_injection.victim', tag => 'keep'); --",
  "keep' OR '1'='1",
  'keep`',
  'savepoint 1',
  '1-starts-with-a-digit',
  '',
];

const BAD_CATALOG = `paimon\`; DROP DATABASE \`${DB}\` CASCADE; --`;

type Call = [name: keyof PaimonActivities, input: unknown];

/** Every activity, with a bad table in each table position and a bad tag in each tag position. */
function badCalls(): Call[] {
  const calls: Call[] = [];
  for (const table of [...BAD_TABLES, 42, null]) {
    calls.push(
      ['describeSinkTables', { tables: [VICTIM, table] }],
      ['listTags', { table }],
      ['awaitTag', { tables: [VICTIM, table], tag: 'keep', timeoutMs: 1_000 }],
      ['createTag', { table, tag: 'new-tag' }],
      ['deleteTag', { table, tag: 'keep' }],
      ['rollbackToTag', { table, tag: 'keep' }],
      ['tableState', { table }],
    );
  }
  for (const tag of [...BAD_TAGS, 7]) {
    calls.push(
      ['awaitTag', { tables: [VICTIM], tag, timeoutMs: 1_000 }],
      ['createTag', { table: VICTIM, tag }],
      ['deleteTag', { table: VICTIM, tag }],
      ['rollbackToTag', { table: VICTIM, tag }],
    );
  }
  return calls;
}

const goodCalls: Call[] = [
  ['describeSinkTables', { tables: [VICTIM] }],
  ['listTags', { table: VICTIM }],
  ['awaitTag', { tables: [VICTIM], tag: 'keep', timeoutMs: 1_000 }],
  ['createTag', { table: VICTIM, tag: 'new-tag' }],
  ['deleteTag', { table: VICTIM, tag: 'new-tag' }],
  ['rollbackToTag', { table: VICTIM, tag: 'keep' }],
  ['tableState', { table: VICTIM }],
];

const call = (acts: PaimonActivities, [name, input]: Call) =>
  run(acts[name] as (input: unknown) => Promise<unknown>, input);

describe('identifier validation before SQL', () => {
  beforeAll(async () => {
    await requireStack();
    await freshDatabase(DB);
    await createTable(DB, 'victim', true);
    await insertRows(DB, 'victim', [1, 2, 3]);
    await run(paimonActivities().createTag, { table: VICTIM, tag: 'keep' });
  });

  it('refuses a bad database, table or tag name in every activity, sending nothing', async () => {
    const gateway = new CountingGateway();
    const acts = paimonActivities(gateway);
    const calls = badCalls();
    for (const c of calls) {
      const failure = await expectFatal(call(acts, c), 'InvalidIdentifier');
      expect(failure.message).toMatch(/refused the (database|table|tag)/);
      expect(failure.message).toContain('Nothing was sent to Paimon');
      expect(failure.message, 'says which activity').toContain(c[0]);
    }
    expect(calls.length).toBeGreaterThan(100);
    expect(gateway.sessions).toBe(0);
    expect(gateway.statements).toEqual([]);
  });

  it('refuses a bad catalog name from the config, sending nothing', async () => {
    const gateway = new CountingGateway();
    const acts = paimonActivities(gateway, { catalog: BAD_CATALOG });
    for (const c of goodCalls) {
      const failure = await expectFatal(call(acts, c), 'InvalidIdentifier');
      expect(failure.message).toContain('refused the catalog name');
    }
    expect(gateway.sessions).toBe(0);
    expect(gateway.statements).toEqual([]);
  });

  it('the victim table and its tag are untouched, and good names still work', async () => {
    expect(await tableExists(DB, 'victim')).toBe(true);
    expect(await tagNames(DB, 'victim')).toEqual(['keep']);
    // the control: the same gateway and activities do send SQL for good names
    const gateway = new CountingGateway();
    const tags = await run(paimonActivities(gateway).listTags, { table: VICTIM });
    expect(tags.map((t) => t.tagName)).toEqual(['keep']);
    expect(gateway.sessions).toBe(1);
    expect(gateway.statements.some((s) => s.includes('`victim$tags`'))).toBe(true);
  });
});
