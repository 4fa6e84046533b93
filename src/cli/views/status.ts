// `savepointctl status` for people: one screen for a finished or waiting operation. The outcome
// and its reason first, then the steps with their timings, the restore point, today's savepoint,
// who approved what, the new job, what was done per table, the plan once (in full only while it
// waits for an approval) and the undo once. `--verbose` adds every other field, in words;
// `--json` is the data itself. Nothing here prints a JSON object.
import { humanDuration } from '../../domain/durations';
import type { RestorePlan, RestoreStatus } from '../../../workflows/restore-messages';
import type { UpgradeStatus } from '../../../workflows/messages';
import { describePlan, rolledBackLine } from './plan';
import { upgradeStateLine } from './upgrade';

export interface StatusView {
  type: string;
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, TIMED_OUT, CANCELED */
  execution: string;
  url: string;
  /** the status query's answer, or the result of a run that ended */
  state: Record<string, unknown>;
  /** why a run that did not complete ended: its failure's root cause (when the status has no reason) */
  failure?: string;
  /** the workflow's memo (outcome, reason, restorePlan...) */
  memo?: Record<string, unknown>;
  verbose?: boolean;
}

/** Fields shown in the default view; everything else waits for --verbose. */
const SHOWN = new Set([
  'step', 'job', 'timings', 'reason', 'status', 'instructions', 'plan', 'approval', 'rejection', 'supersededApprovals',
  'todaysSavepoint', 'undo', 'tables', 'newJobId', 'restartedJobId', 'restorePointsMarkedLost', 'restorePointsNotMarkedLost',
  'droppedState', 'oldJobId', 'restoredJobId', 'savepoint', 'tag', 'stateCheck', 'parallelism', 'restorePointRecorded',
  'restorePointNotRecorded', 'unavailable', 'refusedSignals',
]);

const ENDED = (execution: string) => execution !== 'RUNNING';

export function statusLines(v: StatusView): string[] {
  const s = v.state as Partial<RestoreStatus & UpgradeStatus> & Record<string, unknown> & { status?: string; instructions?: string };
  const ended = ENDED(v.execution);
  const outcome = typeof s.status === 'string' ? s.status : ended ? (typeof v.memo?.outcome === 'string' ? v.memo.outcome : v.execution.toLowerCase()) : undefined;
  const reason = s.reason ?? v.failure ?? (typeof v.memo?.reason === 'string' ? v.memo.reason : undefined);
  const lines = [`${v.type} ${v.workflowId}: ${v.execution}${outcome && outcome !== v.execution.toLowerCase() ? `, ${outcome}` : ''}`, `  ${v.url}`];
  if (reason) lines.push(`  reason: ${reason}`);
  if (s.unavailable !== undefined) lines.push(`  status: not available (${String(s.unavailable)})`);
  lines.push(...stepLines(s, ended));
  if (s.instructions) lines.push(`  next: ${s.instructions}`);
  const isRestore = v.type === 'restoreWorkflow' || s.plan !== undefined || s.undo !== undefined;
  lines.push(...(isRestore ? restoreLines(s as Partial<RestoreStatus>, ended, !!v.verbose) : upgradeLines(s as Partial<UpgradeStatus>, outcome)));
  if (v.verbose) lines.push(...restLines(s));
  return lines;
}

function stepLines(s: { step?: string; timings?: { step: string; startedAt: string; durationMs?: number }[] }, ended: boolean): string[] {
  const timings = Array.isArray(s.timings) ? s.timings : [];
  if (timings.length === 0) return s.step ? [`  step: ${s.step}`] : [];
  const first = Date.parse(timings[0]!.startedAt);
  const last = timings[timings.length - 1]!;
  const end = Date.parse(last.startedAt) + (last.durationMs ?? 0);
  const lines = [`  step: ${s.step ?? last.step}${ended ? '' : ` (since ${clock(last.startedAt)})`}; started ${timings[0]!.startedAt}${ended && last.durationMs !== undefined ? `, took ${humanDuration(end - first)}` : ''}`];
  // Outcome steps (restored, failed...) have no length of their own: they mark the end.
  const steps = timings.filter((t, i) => !(ended && i === timings.length - 1 && t.durationMs === 0));
  const width = Math.max(...steps.map((t) => t.step.length));
  for (const t of steps) {
    const took = t.durationMs !== undefined ? humanDuration(t.durationMs) : ended ? '(ended here)' : '(now)';
    lines.push(`    ${t.step.padEnd(width)}  ${clock(t.startedAt)}  ${took}`);
  }
  return lines;
}

const clock = (iso: string) => iso.replace(/^.*T/, '').replace(/\.\d+Z$/, 'Z');

function restoreLines(s: Partial<RestoreStatus>, ended: boolean, verbose: boolean): string[] {
  const lines: string[] = [];
  const plan = s.plan as RestorePlan | undefined;
  // The whole plan while someone has to decide on it (or asked for everything); else one line.
  const wholePlan = !!plan && (verbose || (!ended && s.step === 'awaiting-approval'));
  if (plan?.restorePoint && !wholePlan) {
    const rp = plan.restorePoint;
    lines.push(`  restore point: savepoint ${rp.savepointId} (${rp.tag}) at ${rp.path}${rp.label ? ` '${rp.label}'` : ''}`);
  }
  if (s.todaysSavepoint) {
    lines.push(`  today's savepoint: ${s.todaysSavepoint.savepointId} (${s.todaysSavepoint.tag}) at ${s.todaysSavepoint.path}`);
  }
  for (const a of s.supersededApprovals ?? []) lines.push(`  approval of plan v${a.planVersion} by ${approverText(a)} superseded: the plan changed (${a.changes.join('; ')})`);
  if (s.approval) lines.push(`  approved: plan v${s.approval.planVersion} by ${approverText(s.approval)}`);
  if (s.rejection) lines.push(`  rejected: plan v${s.rejection.planVersion} by ${s.rejection.rejectedBy} at ${s.rejection.at}${s.rejection.comment ? ` ("${s.rejection.comment}")` : ''}`);
  for (const r of s.refusedSignals ?? []) lines.push(`  refused approval signal from '${r.approver}' at ${r.at}: ${r.problem}`);
  if (s.restartedJobId) lines.push(`  writer restarted from today's savepoint: job ${s.restartedJobId}`);
  if (s.newJobId) lines.push(`  new job: ${s.newJobId}${plan?.deploymentVersion ? ` (${plan.deploymentVersion})` : ''}`);
  if (s.droppedState) lines.push(`  DROPPED STATE: ${s.droppedState}`);
  if (Array.isArray(s.tables) && s.tables.length > 0) {
    lines.push('  tables:', ...s.tables.map((t) => `    ${rolledBackLine(t)}`));
  }
  const lost = s.restorePointsMarkedLost ?? [];
  if (lost.length > 0) lines.push(`  restore points lost with the rollback: ${lost.map((p) => p.savepointId).join(', ')}`);
  if (s.restorePointsNotMarkedLost) lines.push(`  restore points not marked lost: ${s.restorePointsNotMarkedLost}`);
  if (plan && wholePlan) {
    lines.push(...describePlan(plan, { undo: !s.undo }).split('\n').map((l) => `  ${l}`));
  } else if (plan) {
    lines.push(`  plan: v${plan.version}${plan.plannedAt ? `, made ${plan.plannedAt}` : ''} (--verbose shows it)`);
  }
  if (s.undo?.instructions) lines.push(`  undo: ${s.undo.instructions}`);
  return lines;
}

function approverText(a: { approver: string; comment?: string; at?: string; via?: string; proof?: { key: string; planDigest: string } }): string {
  // An answer recorded before signed approvals has no proof: said, not hidden.
  const proof = a.proof ? `; proven by key ${a.proof.key} over plan digest ${a.proof.planDigest}` : '; not proven (no signature)';
  const known = new Set(['approver', 'comment', 'planVersion', 'via', 'at', 'changes', 'proof', 'signature']);
  const extra = Object.entries(a as Record<string, unknown>)
    .filter(([k, value]) => !known.has(k) && value !== undefined && value !== null)
    .map(([k, value]) => `${k} ${words(value)}`);
  return (
    `${a.approver}${a.at ? ` at ${a.at}` : ''}${a.via ? ` (by ${a.via})` : ''}${a.comment ? ` ("${a.comment}")` : ''}${proof}` +
    `${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`
  );
}

function upgradeLines(s: Partial<UpgradeStatus>, outcome: string | undefined): string[] {
  const lines: string[] = [];
  if (s.oldJobId || s.newJobId || s.restoredJobId) {
    lines.push(`  old job: ${s.oldJobId ?? '-'}  new job: ${s.newJobId ?? '-'}${s.restoredJobId ? `  old version restarted: job ${s.restoredJobId}` : ''}`);
  }
  if (s.savepoint) {
    const recorded = s.restorePointRecorded === true ? ', recorded as a restore point' : s.restorePointNotRecorded ? `, not recorded as a restore point: ${s.restorePointNotRecorded}` : '';
    lines.push(`  savepoint: ${s.savepoint.id} at ${s.savepoint.path}${s.tag ? ` (tag ${s.tag})` : ''}${recorded}`);
  }
  for (const v of s.parallelism ?? []) lines.push(`  vertex ${v.id} ${v.name}: parallelism ${v.from} -> ${v.to}${v.kept ? ` (kept: ${v.kept})` : ''}`);
  if (s.stateCheck) lines.push(`  state: ${upgradeStateLine(s.stateCheck, outcome)}`);
  if (s.droppedState) lines.push(`  DROPPED STATE: ${s.droppedState}`);
  return lines;
}

/** Every field the default view leaves out, in words. */
function restLines(s: Record<string, unknown>): string[] {
  return Object.entries(s)
    .filter(([key, value]) => !SHOWN.has(key) && value !== undefined)
    .map(([key, value]) => `  ${key}: ${words(value)}`);
}

/** A value in words: "a=1, b=x" for an object, items joined by "; " for a list. Never JSON. */
export function words(value: unknown): string {
  if (value === null) return 'none';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(words).join('; ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${typeof v === 'object' && v !== null ? `(${words(v)})` : words(v)}`)
      .join(', ');
  }
  return String(value);
}
