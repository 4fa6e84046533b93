// savepointctl schedule create|list|pause|unpause|trigger|delete: one savepoint schedule per job.
import {
  createSavepointSchedule,
  deleteSavepointSchedule,
  listSavepointSchedules,
  pauseSavepointSchedule,
  triggerSavepointSchedule,
  unpauseSavepointSchedule,
} from '../../client/schedules';
import { bool, compact, positional, str } from '../args';
import { UsageError } from '../errors';
import { json, table } from '../output';
import type { Command } from './command';
import { savepointFlags, savepointInput } from './savepoint';

const ACTIONS = ['create', 'list', 'pause', 'unpause', 'trigger', 'delete'] as const;

export const schedule: Command = {
  name: 'schedule',
  summary: 'savepoint schedules: create, list, pause, unpause, trigger, delete (one per job)',
  usage: `savepointctl schedule create --job-name NAME --table DB.T... (--every 6h | --cron '0 3 * * *') [options]
savepointctl schedule list [--json]
savepointctl schedule pause|unpause|trigger|delete JOB_NAME

  --every D            an interval, e.g. 6h
  --cron EXPR          a cron expression (UTC unless --timezone)
  --timezone TZ        IANA time zone for --cron
  --catchup-window D   after an outage, a run missed by less than this is still taken (default 1h)
  --keep-last N        after each savepoint, keep the newest N restore points (pinned ones always stay)
  --max-age D          after each savepoint, keep restore points younger than D
  --paused             create the schedule paused
  --pin --label --version --tag-timeout   as for 'savepointctl savepoint'`,
  flags: {
    ...savepointFlags,
    every: { type: 'string' },
    cron: { type: 'string' },
    timezone: { type: 'string' },
    'catchup-window': { type: 'string' },
    'keep-last': { type: 'string' },
    'max-age': { type: 'string' },
    paused: { type: 'boolean' },
    note: { type: 'string' },
  },
  async run(p, ctx) {
    const action = positional(p, 0, ACTIONS.join('|')) as (typeof ACTIONS)[number];
    if (!ACTIONS.includes(action)) throw new UsageError(`unknown schedule action '${action}' (use ${ACTIONS.join(', ')})`);
    const client = await ctx.client();
    if (action === 'create') {
      const keepLast = str(p, 'keep-last');
      if (keepLast !== undefined && !/^[1-9]\d*$/.test(keepLast)) throw new UsageError(`--keep-last must be a positive whole number, got '${keepLast}'`);
      const retention = keepLast !== undefined || str(p, 'max-age') !== undefined
        ? compact({ keepLast: keepLast === undefined ? undefined : Number(keepLast), maxAge: str(p, 'max-age') })
        : undefined;
      const input = { ...savepointInput(p), ...(retention ? { retention } : {}) };
      const handle = await createSavepointSchedule(
        client,
        compact({
          savepoint: input,
          every: str(p, 'every'),
          cron: str(p, 'cron'),
          timezone: str(p, 'timezone'),
          catchupWindow: str(p, 'catchup-window'),
          paused: bool(p, 'paused') || undefined,
          note: str(p, 'note'),
        }) as never,
        { taskQueue: ctx.config.temporal.taskQueue },
      );
      ctx.out(ctx.json ? json({ scheduleId: handle.scheduleId }) : `created schedule ${handle.scheduleId}`);
      return 0;
    }
    if (action === 'list') {
      const schedules = await listSavepointSchedules(client);
      ctx.out(
        ctx.json
          ? json(schedules)
          : schedules.length === 0
            ? 'no savepoint schedules'
            : table(
                ['JOB', 'SCHEDULE', 'STATE', 'NEXT RUN', 'LAST RUN'],
                schedules.map((s) => [
                  s.jobName,
                  s.scheduleId,
                  s.paused ? 'paused' : 'active',
                  s.nextActionTimes[0]?.toISOString() ?? '-',
                  s.recentActions.at(-1)?.takenAt.toISOString() ?? '-',
                ]),
              ),
      );
      return 0;
    }
    const jobName = positional(p, 1, 'job-name');
    const note = str(p, 'note');
    const run = {
      pause: () => pauseSavepointSchedule(client, jobName, note),
      unpause: () => unpauseSavepointSchedule(client, jobName, note),
      trigger: () => triggerSavepointSchedule(client, jobName),
      delete: () => deleteSavepointSchedule(client, jobName),
    }[action];
    await run();
    ctx.out(ctx.json ? json({ jobName, action }) : `${action}${action.endsWith('e') ? 'd' : 'ed'} the savepoint schedule of '${jobName}'`);
    return 0;
  },
};
