// The gauges a platform alerts on (docs/metrics.md): per job, how many restore points are
// restorable, and when the newest restorable one was taken (alert on time() minus it). Set from
// what the catalog just read or wrote, through the Temporal runtime's exporter.
import { metricMeter } from '@temporalio/activity';
import type { RestorePoint } from '../../src/domain/restore-points';

/** After a listing: both gauges for the job, from the points that are restorable now. */
export function reportRestorePoints(jobName: string, points: readonly RestorePoint[]): void {
  const restorable = points.filter((p) => p.restorable);
  gauge('flink_paimon_restore_points', 'restorable restore points of a job')?.set(restorable.length, { job: jobName });
  const newest = Math.max(...restorable.flatMap((p) => (p.createdAt ? [Date.parse(p.createdAt)] : [])));
  if (Number.isFinite(newest)) reportNewestRestorable(jobName, newest);
}

/** A restorable point was just recorded (or listed as the newest): its trigger time. */
export function reportNewestRestorable(jobName: string, createdAtMs: number): void {
  gauge('flink_paimon_newest_restorable_savepoint_timestamp_seconds', 'when the newest restorable savepoint of a job was taken')?.set(
    Math.floor(createdAtMs / 1000),
    { job: jobName },
  );
}

function gauge(name: string, description: string) {
  try {
    return metricMeter.createGauge(name, 'int', '', description);
  } catch {
    // Outside an activity (a script listing the catalog directly): nothing to report to.
    return undefined;
  }
}
