// The Flink activities bound to the real stack, as every real-stack suite calls them.
import { createFlinkActivities } from '../../activities/flink/activities';
import type { FlinkActivities } from '../../activities/contract';
import type { Config } from '../../src/config/config';
import { config } from './stack';

export function activities(overrides: Partial<Config['flink']> = {}): FlinkActivities {
  return createFlinkActivities({ ...config, flink: { ...config.flink, ...overrides } }, { pollIntervalMs: 300 });
}
