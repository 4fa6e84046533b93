// The SQL gateway REST API payloads we read (API version: activities/compat.ts), named after the
// gateway's fields.
import { z } from 'zod';

export const OpenSessionResponseBody = z.object({ sessionHandle: z.string() });

export const ExecuteStatementResponseBody = z.object({ operationHandle: z.string() });

export const ColumnInfo = z.object({ name: z.string() });

export const RowData = z.object({ kind: z.string(), fields: z.array(z.unknown()) });

/** GET /<api>/sessions/:session/operations/:operation/result/:token?rowFormat=JSON */
export const FetchResultsResponseBody = z.object({
  resultType: z.enum(['NOT_READY', 'PAYLOAD', 'EOS']),
  isQueryResult: z.boolean().optional(),
  /** The job the statement submitted (INSERT, SELECT), once it is submitted. */
  jobID: z.string().nullish(),
  resultKind: z.string().nullish(),
  results: z
    .object({
      columns: z.array(ColumnInfo).default([]),
      rowFormat: z.string().optional(),
      data: z.array(RowData).default([]),
    })
    .optional(),
  nextResultUri: z.string().nullish(),
});
export type FetchResultsResponseBody = z.infer<typeof FetchResultsResponseBody>;

export const OperationStatusResponseBody = z.object({ status: z.string() });
