// The Paimon activities of the contract, bound to one SQL gateway client.
import type { Config } from '../../src/config/config';
import type { PaimonActivities } from '../contract';
import { SqlGatewayClient } from '../sql-gateway/client';
import { awaitTag } from './await-tag';
import { commitsByUser } from './commit-users';
import { listConsumers } from './consumers';
import { paimonContext, type PaimonContext } from './context';
import { ReadSlots } from './read-cluster';
import type { SqlGateway } from './session';
import { describeSinkTables, tableState } from './tables';
import { createTag, deleteTag, listTags, listTagsOfTables, rollbackToTag } from './tags';

export interface PaimonActivityOptions {
  /** Pause between awaitTag's checks instead of the configured one (each check is a short Flink job). */
  pollIntervalMs?: number;
  /** Instead of a client built from the config (tests count what is sent). */
  gateway?: SqlGateway;
}

/**
 * The gateway client and the sessions every Paimon activity of a worker shares (the branch
 * activities too): a session a read left idle serves the next statement, whichever activity it is.
 */
export function createPaimonContext(config: Pick<Config, 'flink' | 'sqlGateway' | 'paimon'>, options: PaimonActivityOptions = {}): PaimonContext {
  // The gateway is part of the Flink deployment, so it takes Flink's auth header, CA and timeout.
  const gateway =
    options.gateway ??
    new SqlGatewayClient({
      url: config.sqlGateway.url,
      requestTimeoutMs: config.flink.requestTimeoutMs,
      authHeader: config.flink.authHeader,
      caFile: config.flink.caFile,
    });
  return paimonContext(gateway, config.paimon, options.pollIntervalMs ?? config.paimon.tagPollIntervalMs, new ReadSlots(config));
}

export function createPaimonActivities(
  config: Pick<Config, 'flink' | 'sqlGateway' | 'paimon'>,
  options: PaimonActivityOptions = {},
  ctx: PaimonContext = createPaimonContext(config, options),
): PaimonActivities {
  return {
    describeSinkTables: (input) => describeSinkTables(ctx, input),
    listTags: (input) => listTags(ctx, input),
    listTagsOfTables: (input) => listTagsOfTables(ctx, input),
    awaitTag: (input) => awaitTag(ctx, input),
    createTag: (input) => createTag(ctx, input),
    deleteTag: (input) => deleteTag(ctx, input),
    rollbackToTag: (input) => rollbackToTag(ctx, input),
    tableState: (input) => tableState(ctx, input),
    listConsumers: (input) => listConsumers(ctx, input),
    commitsByUser: (input) => commitsByUser(ctx, input),
  };
}
