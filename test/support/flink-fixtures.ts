// What the Flink activity tests share: the activities bound to the real stack, a way to call them
// in an activity context, failure assertions, and the test's own Paimon tables and jobs.
import { config } from './stack';

export { activityEnv, expectFatal, expectRetryable, failureOf, run } from './activity-calls';
export { config };
export { cancelJobsNamed, createSinkTables, demoScript, jobState, tagNames } from './demo-pipeline';
export { activities } from './flink-activities';

/** A token unique to this run, so reruns never find an old run's job. */
export const runToken = (what: string) => `flinktest/${what}/${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
