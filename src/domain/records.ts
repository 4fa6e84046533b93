// One wording for Paimon's record counts wherever people read them (plan, status, result, memo):
// a snapshot's total_record_count and a tag's record_count count the records in data files, every
// version of a key until compaction (deletes included). They are never rows: COUNT(*) merges keys.
// Pure: bundled into workflow code.

/** How a count is named next to its number: "120 records in data files". */
export const RECORDS = 'records in data files';

/** What the count means, said once where counts are shown. */
export const RECORDS_MEANING = 'records in data files: every version of a key until compaction, not rows';

/** "120 records in data files", or "records unknown" when Paimon did not say (or an older plan did not record it). */
export function recordsText(n: number | null | undefined): string {
  return typeof n === 'number' ? `${n} ${RECORDS}` : `${RECORDS}: unknown`;
}
