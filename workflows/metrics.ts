// What the workflows tell a platform's Prometheus (docs/metrics.md), through the Temporal runtime's
// exporter. The SDK emits nothing while a history replays, so each step and outcome counts once.
import { metricMeter, workflowInfo } from '@temporalio/workflow';

/** An operation (upgrade, restore, savepoint) ended with this outcome. */
export function countOperation(outcome: string): void {
  metricMeter
    .createCounter('flink_paimon_operations', '', 'operations that ended, by workflow type and outcome')
    .add(1, { operation: workflowInfo().workflowType, outcome });
}

/** A step of an upgrade or restore took `ms`. */
export function recordStep(step: string, ms: number): void {
  metricMeter
    .createHistogram('flink_paimon_step_duration', 'int', 'ms', 'how long each step of an upgrade or restore took')
    .record(ms, { operation: workflowInfo().workflowType, step });
}
