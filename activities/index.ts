import type { Config } from '../src/config';

// The activity registry: each outside system's module (flink/, paimon/) registers its activities here.
export function createActivities(config: Config) {
  return {};
}
