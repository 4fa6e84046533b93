// Names that reach SQL: checked against IDENTIFIER_PATTERN before any session is opened, and
// branded so the SQL builders (sql.ts) accept nothing else.
import { IDENTIFIER_PATTERN, type TableRef } from '../../src/domain/model';
import { FailureType, fatal } from '../errors';

declare const checked: unique symbol;

/** A catalog, database, table or tag name that matched IDENTIFIER_PATTERN. */
export type Identifier = string & { readonly [checked]: true };

export type IdentifierKind = 'catalog' | 'database' | 'table' | 'tag';

/** A sink table split into its checked parts; `ref` is the `database.table` the caller gave. */
export interface TableName {
  ref: TableRef;
  database: Identifier;
  table: Identifier;
}

const RULE = "letters, digits, '_' or '-', starting with a letter or '_', at most 128 characters";

/** How a rejected value appears in a message: quoted, escaped and cut short. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : `a ${typeof value}`;
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

function invalid(attempted: string, what: string, value: unknown) {
  return fatal(
    FailureType.InvalidIdentifier,
    `${attempted}: refused the ${what} ${shown(value)}; names must be ${RULE}. Nothing was sent to Paimon; ` +
      'fix the name in the input.',
  );
}

export function identifier(kind: IdentifierKind, value: unknown, attempted: string): Identifier {
  if (typeof value !== 'string' || !IDENTIFIER_PATTERN.test(value)) throw invalid(attempted, `${kind} name`, value);
  return value as Identifier;
}

/** `database.table` → its parts; anything else is refused, naming the part that is wrong. */
export function tableName(value: unknown, attempted: string): TableName {
  if (typeof value !== 'string') throw invalid(attempted, "table (expected 'database.table')", value);
  const parts = value.split('.');
  if (parts.length !== 2) throw invalid(attempted, "table (expected exactly one '.', as in 'database.table')", value);
  const [database, table] = parts as [string, string];
  return {
    ref: value,
    database: identifier('database', database, attempted),
    table: identifier('table', table, attempted),
  };
}

/** Checks every table before any of them is used: one bad name and nothing is sent. */
export function tableNames(values: unknown, attempted: string): TableName[] {
  if (!Array.isArray(values)) throw invalid(attempted, 'table list', values);
  return values.map((value) => tableName(value, attempted));
}
