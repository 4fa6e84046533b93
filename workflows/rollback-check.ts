// Whether a table is where rollback_to should have left it, decided from Paimon's metadata alone:
// after `rollback_to` the latest snapshot is the tag's snapshot (Paimon deletes the newer ones, or
// writes the tag's snapshot back when expiry had removed it), with the tag's schema and records.
// No scan: a billion-row table answers as fast as the demo's, and merged rows (COUNT(*)) are never
// compared with the records in data files that a tag counts.
import type { TableState } from '../src/domain/model';
import type { TableBlastRadius } from './restore-messages';

/** Each way the table differs from its tag, in words; empty when it is at the tag. */
export function rollbackMismatch(
  expected: Pick<TableBlastRadius, 'tagSnapshotId' | 'tagSchemaId' | 'recordsAtTag'>,
  state: TableState,
): string[] {
  const problems: string[] = [];
  if (state.latestSnapshotId !== expected.tagSnapshotId) {
    problems.push(`its latest snapshot is ${state.latestSnapshotId ?? 'none'}, the tag's is ${expected.tagSnapshotId}`);
  }
  if (state.schemaId !== expected.tagSchemaId) {
    problems.push(`its schema is ${state.schemaId ?? 'none'}, the tag's is ${expected.tagSchemaId}`);
  }
  if (expected.recordsAtTag !== null && state.totalRecordCount !== expected.recordsAtTag) {
    problems.push(`its snapshot counts ${state.totalRecordCount ?? 'no'} records in data files, the tag ${expected.recordsAtTag}`);
  }
  return problems;
}
