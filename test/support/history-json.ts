// Workflow histories to and from the JSON that Temporal's tools write (UI download, `temporal
// workflow show -o json`).
//
// Why not historyToJSON/historyFromJSON from @temporalio/common/lib/proto-utils: in this install
// npm hoisted protobufjs 7 (for @grpc/proto-loader) and gave @temporalio/common and
// @temporalio/proto a nested protobufjs 8 each; common's protojson then refuses proto's types
// ("type must be a Type"). Here the protojson extension is loaded from the very protobufjs copy
// that @temporalio/proto uses, whatever the layout.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as Proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = Proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

// require, not import: patchProtobufRoot wants the CommonJS module object itself, which an ESM
// namespace import (as vitest gives it) is not.
/* eslint-disable @typescript-eslint/no-require-imports */
const proto = require('@temporalio/proto') as typeof Proto;
const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
/* eslint-enable @typescript-eslint/no-require-imports */
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType(
  'temporal.api.history.v1.History',
);

export function historyToJson(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a workflow history');
  return history as History;
}

/** Writes a recorded history as the JSON Temporal's tools write, for the replay tests. */
export async function writeHistoryJson(file: string, history: History): Promise<void> {
  await writeFile(file, `${JSON.stringify(historyToJson(history), null, 2)}\n`);
}
