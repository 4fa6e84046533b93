import type { Config } from '../src/config';
import { createCatalogActivities } from './catalog/activities';
import { createFlinkActivities } from './flink/activities';
import { createPaimonActivities } from './paimon/activities';

// The activity registry: each outside system's module (flink/, paimon/) registers its activities here.
export function createActivities(config: Config) {
  const flink = createFlinkActivities(config);
  const paimon = createPaimonActivities(config);
  // The restore-point catalog reads tags and savepoint headers through the other two modules.
  const catalog = createCatalogActivities(config, { listTags: paimon.listTags, inspectSavepoint: flink.inspectSavepoint });
  return { ...flink, ...paimon, ...catalog };
}
