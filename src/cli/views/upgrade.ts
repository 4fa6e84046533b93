// An upgrade's result for people. Text that applies only when the new version does not start (what
// Flink does with state it cannot map) is left out once the upgrade went through.
import type { UpgradeResult } from '../../../workflows/messages';

/**
 * The state check in words for this outcome: before the stop it says what would happen if the new
 * version refused the savepoint; once it was upgraded that did not happen, and only the check stays.
 */
export function upgradeStateLine(stateCheck: string, outcome: string | undefined): string {
  if (outcome !== 'upgraded') return stateCheck;
  return stateCheck.replace(/\s*When \S+ starts, Flink refuses savepoint state it cannot map and the old version runs again from the savepoint\./, ` It started from the savepoint with its state.`);
}

export function upgradeSummary(r: UpgradeResult): string {
  return [
    `${r.status}: job ${r.job}`,
    `  old job ${r.oldJobId ?? '-'}  new job ${r.newJobId ?? '-'}${r.restoredJobId ? `  restored job ${r.restoredJobId}` : ''}`,
    `  savepoint ${r.savepoint ? `${r.savepoint.id} at ${r.savepoint.path}` : '-'}  tag ${r.tag ?? '-'}`,
    ...(r.parallelism ? r.parallelism.map((v) => `  vertex ${v.id} ${v.name}: ${v.from} -> ${v.to}${v.kept ? ` (kept: ${v.kept})` : ''}`) : []),
    ...(r.stateCheck ? [`  state: ${upgradeStateLine(r.stateCheck, r.status)}`] : []),
    ...(r.droppedState ? [`  DROPPED STATE: ${r.droppedState}`] : []),
    ...(r.reason ? [`  reason: ${r.reason}`] : []),
    ...(r.instructions ? [`  next: ${r.instructions}`] : []),
  ].join('\n');
}
