// What the Flink activity tests share: the activities bound to the real stack, a way to call them
// in an activity context, failure assertions, and the test's own Paimon tables and jobs.
import { createFlinkActivities } from '../../../activities/flink/activities';
import type { FlinkActivities } from '../../../activities/contract';
import type { Config } from '../../../src/config';
import { config } from '../../support/stack';

export { activityEnv, expectFatal, expectRetryable, failureOf, run } from '../../support/activity-calls';
export { config };
export { cancelJobsNamed, createSinkTables, demoScript, jobState, tagNames } from '../../support/demo-pipeline';

export function activities(overrides: Partial<Config['flink']> = {}): FlinkActivities {
  return createFlinkActivities({ ...config, flink: { ...config.flink, ...overrides } }, { pollIntervalMs: 300 });
}

/** A token unique to this run, so reruns never find an old run's job. */
export const runToken = (what: string) => `flinktest/${what}/${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
