// The non-retryable failures of the Paimon activities, worded for the operator who reads them in
// the workflow's history: what was attempted, on which table, and what to do.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, fatal } from '../errors';
import type { TableName } from './identifiers';

export function tableNotFound(attempted: string, t: TableName, catalog: string, databaseExists: boolean) {
  const where = databaseExists
    ? `database '${t.database}' has no table '${t.table}'`
    : `database '${t.database}' does not exist`;
  return fatal(
    FailureType.TableNotFound,
    `${attempted}: table ${t.ref} not found in Paimon catalog '${catalog}' (${where}). ` +
      "Check the sink table names ('database.table') and that PAIMON_WAREHOUSE is the warehouse the job writes to.",
  );
}

export function tagMissing(attempted: string, t: TableName, tag: string, existing: string[], consequence: string) {
  const known = existing.length === 0 ? 'it has no tags' : `its tags: ${existing.slice(-10).join(', ')}`;
  return fatal(
    FailureType.TagMissing,
    `${attempted}: table ${t.ref} has no tag '${tag}' (${known}). ${consequence} ` +
      `Pick an existing tag (SELECT tag_name FROM \`${t.database}\`.\`${t.table}$tags\`); a savepoint-<id> tag ` +
      "appears only if the job writing the table had 'sink.savepoint.auto-tag' = 'true'.",
  );
}

export function tagConflict(attempted: string, t: TableName, tag: string, taggedSnapshot: number, wanted: number) {
  return fatal(
    FailureType.TagConflict,
    `${attempted}: table ${t.ref} already has tag '${tag}' on snapshot ${taggedSnapshot}, not ${wanted}. ` +
      'Nothing was changed; choose another tag name, or delete the old tag first if it is no longer needed.',
  );
}

/**
 * A table dropped, or a tag deleted, between our check and the statement: Paimon's own error
 * (after the gateway's SqlFailed) becomes the failure the workflows match on.
 */
export function translate(err: unknown, attempted: string, t: TableName, catalog: string, tag?: string): unknown {
  if (!(err instanceof ApplicationFailure) || err.type !== FailureType.SqlFailed) return err;
  if (/TableNotExistException|Table .* does not exist|Object '[^']*' not found/.test(err.message)) {
    return tableNotFound(attempted, t, catalog, true);
  }
  if (tag !== undefined && new RegExp(`Tag '${tag}' doesn't exist`).test(err.message)) {
    return tagMissing(attempted, t, tag, [], 'Nothing was rolled back.');
  }
  return err;
}
