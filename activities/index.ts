import type { Config } from '../src/config/config';
import type { Activities } from './contract';
import { createApproverActivities } from './approvers/activities';
import { createCatalogActivities } from './catalog/activities';
import { createFlinkActivities } from './flink/activities';
import { createPaimonActivities, createPaimonContext } from './paimon/activities';
import { createPaimonBranchActivities } from './paimon/branches';

// The activity registry: each outside system's module (flink/, paimon/) registers its activities here.
export function createActivities(config: Config): Activities {
  const flink = createFlinkActivities(config);
  // One gateway client and one pool of Paimon sessions for the tag, table and branch activities.
  const paimonSessions = createPaimonContext(config);
  const paimon = createPaimonActivities(config, {}, paimonSessions);
  // The restore-point catalog reads tags and savepoint headers through the other two modules.
  const catalog = createCatalogActivities(config, {
    listTagsOfTables: paimon.listTagsOfTables,
    inspectSavepoint: flink.inspectSavepoint,
    getJob: flink.getJob,
    resolveJob: flink.resolveJob,
  });
  return { ...flink, ...paimon, ...createPaimonBranchActivities(config, paimonSessions), ...catalog, ...createApproverActivities(config) };
}
