// Reading a table's tags from its `<table>$tags` system table (a short batch job on the cluster).
import type { TagInfo } from '../../src/domain';
import type { TableName } from './identifiers';
import { TagRow } from './schemas';
import type { PaimonSession } from './session';
import { selectTags } from './sql';

/** The table's tags, oldest snapshot first. */
export async function readTags(session: PaimonSession, t: TableName): Promise<TagInfo[]> {
  const rows = await session.rows(selectTags(t), TagRow);
  return rows
    .map((r) => ({
      tagName: r.tag_name,
      snapshotId: r.snapshot_id,
      schemaId: r.schema_id,
      // Paimon gives a local date-time without a zone (the cluster's time zone).
      commitTime: r.commit_time,
      recordCount: r.record_count,
    }))
    .sort((a, b) => a.snapshotId - b.snapshotId || a.tagName.localeCompare(b.tagName));
}
