// The activities the workflows may call: the only way workflow code touches Flink or Paimon.
// Workflows import this file as types only; activities/flink and activities/paimon implement it.
import type { ApproverActivities } from './approvers/contract';
import type { CatalogActivities } from './catalog/contract';
import type { FlinkActivities } from './flink/contract';
import type { PaimonActivities, PaimonBranchActivities } from './paimon/contract';

export type * from './approvers/contract';
export type * from './catalog/contract';
export type * from './flink/contract';
export type * from './paimon/contract';

export type Activities = FlinkActivities & PaimonActivities & PaimonBranchActivities & CatalogActivities & ApproverActivities;
