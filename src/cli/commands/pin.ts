// savepointctl pin|unpin JOB SAVEPOINT_ID: a person's pin on a restore point, or its removal.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { jobKey } from '../../domain/job-name';
import type { RestorePointRecord } from '../../domain/restore-points';
import { positional, type Parsed } from '../args';
import type { Context } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { failureReason } from '../follow';
import { json } from '../output';
import type { Command } from './command';

function target(p: Parsed): { jobName: string; savepointId: number } {
  const jobName = positional(p, 0, 'job-name');
  const id = positional(p, 1, 'savepoint-id');
  if (!/^\d+$/.test(id)) throw new UsageError(`<savepoint-id> must be a whole number (see savepointctl restore-points ${jobName}), got '${id}'`);
  return { jobName, savepointId: Number(id) };
}

async function setPin(ctx: Context, input: { jobName: string; savepointId: number; pinned: boolean }): Promise<RestorePointRecord> {
  const client = await ctx.client();
  try {
    return await client.workflow.execute<(i: typeof input) => Promise<RestorePointRecord>>('pinRestorePointWorkflow', {
      workflowId: `restore-points/${jobKey(input.jobName)}/pin-${randomUUID()}`,
      taskQueue: ctx.config.temporal.taskQueue,
      args: [input],
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CommandFailed(failureReason(err));
    throw err;
  }
}

const usage = (verb: 'pin' | 'unpin', what: string) => `savepointctl ${verb} JOB_NAME SAVEPOINT_ID [--json]

  ${what}

  JOB_NAME       the job the restore point belongs to
  SAVEPOINT_ID   as savepointctl restore-points lists it
  --json         the restore point's record as JSON, for scripts`;

export const pin: Command = {
  name: 'pin',
  summary: "pin a restore point: retention never deletes it (also takes over an upgrade's pin)",
  usage: usage('pin', "A person's pin never expires. Pinning an upgrade's point makes its pin yours."),
  flags: {},
  async run(p, ctx) {
    const record = await setPin(ctx, { ...target(p), pinned: true });
    ctx.out(ctx.json ? json(record) : `pinned restore point ${record.savepointId} of '${record.jobName}': retention never deletes it`);
    return 0;
  },
};

export const unpin: Command = {
  name: 'unpin',
  summary: 'remove the pin from a restore point: the retention policy decides about it again',
  usage: usage('unpin', "Also removes an upgrade's pin: the point is then kept only by the retention policy's rules."),
  flags: {},
  async run(p, ctx) {
    const record = await setPin(ctx, { ...target(p), pinned: false });
    ctx.out(ctx.json ? json(record) : `unpinned restore point ${record.savepointId} of '${record.jobName}': retention's policy decides about it`);
    return 0;
  },
};
