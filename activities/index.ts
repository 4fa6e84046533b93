import type { Config } from '../src/config';
import { createFlinkActivities } from './flink/activities';

// The activity registry: each outside system's module (flink/, paimon/) registers its activities here.
export function createActivities(config: Config) {
  return { ...createFlinkActivities(config) };
}
