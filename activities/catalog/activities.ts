// The restore-point catalog: durable records of the savepoints we took, checked against what is
// really there — `savepoint-<id>` tags on the sink tables and the savepoint's `_metadata`.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../src/domain/failure-types';
import type { Config } from '../../src/config/config';
import type { TableRef, TagInfo } from '../../src/domain/model';
import type { CatalogActivities, FlinkActivities, PaimonActivities } from '../contract';
import { describeOperation, restorePointsInUse } from './in-use';
import { createLifecycleActivities } from './lifecycle';
import { createListingActivities } from './listing';
import { createRecordingActivities } from './recording';
import { RestorePointStore } from './store';
import { restorePointRecordOf, timelineLeft } from './timeline';

export { restorePointRecordOf, timelineLeft };

/** What the catalog reads through the Flink and Paimon modules. */
export interface CatalogDeps {
  listTagsOfTables: PaimonActivities['listTagsOfTables'];
  inspectSavepoint: FlinkActivities['inspectSavepoint'];
  /** The job that took a savepoint, to tell a tag still to come from one that never will; absent: not asked. */
  getJob?: FlinkActivities['getJob'];
  /** The live job of a name, whose savepoints taken outside our workflows are the name's too; absent: not asked. */
  resolveJob?: FlinkActivities['resolveJob'];
}

/** Every table's tags, in one read. */
export type TagsOfTables = (tables: TableRef[]) => Promise<Map<TableRef, TagInfo[]>>;

export function createCatalogActivities(config: Config, deps: CatalogDeps): CatalogActivities {
  // Made on first use: with an object-store savepoint dir the worker still starts (upgrades work),
  // and only the catalog's activities fail, saying why.
  let cached: RestorePointStore | undefined;
  const store = (): RestorePointStore => (cached ??= new RestorePointStore(config.flink.savepointDir));

  const tagsOfTables: TagsOfTables = async (tables) => {
    const tagsOf = await deps.listTagsOfTables({ tables }).catch((err: unknown) => {
      // The table's own problem, in the words of the catalog rather than of the activity it called.
      if (err instanceof ApplicationFailure && err.type === FailureType.TableNotFound) {
        throw ApplicationFailure.create({ type: err.type, nonRetryable: true, message: err.message.replace(/^listTagsOfTables [^:]*: /, '') });
      }
      throw err;
    });
    return new Map(tables.map((table) => [table, tagsOf[table] ?? []]));
  };

  return {
    ...createRecordingActivities(store, tagsOfTables),
    ...createListingActivities(store, deps, tagsOfTables),
    restorePointsInUse,
    describeOperation,
    ...createLifecycleActivities(store),
  };
}
