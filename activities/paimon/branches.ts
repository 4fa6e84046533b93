// Paimon branches through CALL sys.create_branch and `<table>$branches`: the restore workflow's
// undo. rollback_to deletes newer snapshots and tags, but not a branch made from one of them.
import type { Config } from '../../src/config/config';
import type { TableRef } from '../../src/domain/model';
import type { PaimonBranchActivities } from '../contract';
import { rowObjects, SqlGatewayClient } from '../sql-gateway/client';
import { label, paimonContext, type PaimonContext } from './context';
import { ReadSlots } from './read-cluster';
import { tagMissing, translate } from './failures';
import { identifier, tableName, type Identifier, type TableName } from './identifiers';
import { requireTables } from './tables';
import { readTags } from './tag-reads';

const tableLiteral = (t: TableName): string => `'${t.database}.${t.table}'`;

const selectBranches = (t: TableName): string => `SELECT branch_name FROM \`${t.database}\`.\`${t.table}$branches\``;

const callCreateBranch = (t: TableName, branch: Identifier, tag: Identifier): string =>
  `CALL sys.create_branch(\`table\` => ${tableLiteral(t)}, branch => '${branch}', tag => '${tag}')`;

/**
 * Idempotent: Paimon refuses a second create_branch of a name ("already exists"), so a refusal
 * looks whether the branch is there. The table, its branches and tags are looked up only then: a
 * restore makes its undo branches while the job is down, and each read is a batch job (each
 * look-up two statements).
 */
export async function createBranch(ctx: PaimonContext, input: { table: TableRef; branch: string; tag: string }): Promise<void> {
  const attempted = `createBranch '${label(input?.branch)}' of ${label(input?.table)} from tag '${label(input?.tag)}'`;
  const t = tableName(input?.table, attempted);
  const branch = identifier('tag', input?.branch, attempted);
  const tag = identifier('tag', input?.tag, attempted);
  await ctx.session(attempted, async (session) => {
    try {
      await session.run(callCreateBranch(t, branch, tag));
    } catch (refused) {
      // Looked up only on a refusal, like the branches and tags: a missing table is TableNotFound.
      await requireTables(session, [t], ctx.catalog);
      try {
        const branches = rowObjects(await session.run(selectBranches(t))).map((r) => String(r.branch_name));
        if (branches.includes(branch)) return;
        const tags = await readTags(session, t);
        if (!tags.some((info) => info.tagName === tag)) {
          throw tagMissing(attempted, t, tag, tags.map((info) => info.tagName), 'No branch was made.');
        }
      } catch (err) {
        throw translate(err, attempted, t, ctx.catalog);
      }
      throw translate(refused, attempted, t, ctx.catalog);
    }
  });
}

/** With `ctx`, the sessions the other Paimon activities use (createPaimonContext): a restore's undo branches take the sessions its reads left idle. */
export function createPaimonBranchActivities(config: Pick<Config, 'flink' | 'sqlGateway' | 'paimon'>, ctx?: PaimonContext): PaimonBranchActivities {
  const context =
    ctx ??
    paimonContext(
      new SqlGatewayClient({
        url: config.sqlGateway.url,
        requestTimeoutMs: config.flink.requestTimeoutMs,
        authHeader: config.flink.authHeader,
        caFile: config.flink.caFile,
      }),
      config.paimon,
      2_000,
      new ReadSlots(config),
    );
  return { createBranch: (input) => createBranch(context, input) };
}
