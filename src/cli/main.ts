// savepointctl: start, approve and watch the workflows from a terminal or a script.
// Exit codes: 0 done, 1 refused or failed (one line on stderr), 2 wrong usage (EXIT_CODES_HELP).
import { InvalidRestoreInputError } from '../client/start-restore';
import { InvalidUpgradeInputError } from '../client/start-upgrade';
import { parse } from './args';
import { approve, reject } from './commands/approval';
import type { Command } from './commands/command';
import { pin, unpin } from './commands/pin';
import { restore } from './commands/restore';
import { restorePoints } from './commands/restore-points';
import { retention } from './commands/retention';
import { savepoint } from './commands/savepoint';
import { schedule } from './commands/schedule';
import { status } from './commands/status';
import { upgrade } from './commands/upgrade';
import { createContext } from './context';
import { InvalidScheduleInputError } from '../client/schedules';
import { connectionLost, connectionLostText, EXIT_CODES_HELP, UsageError } from './errors';
import { failureReason } from './follow';

export const COMMANDS: Command[] = [upgrade, restore, approve, reject, savepoint, schedule, restorePoints, pin, unpin, retention, status];

const CONNECTION_HELP = `Connection (flags override the env variables of the same meaning):
  --temporal-address HOST:PORT   TEMPORAL_ADDRESS (default 127.0.0.1:7233)
  --namespace NS                 TEMPORAL_NAMESPACE (default 'default')
  --task-queue Q                 TEMPORAL_TASK_QUEUE (default 'flink-paimon-ops')
  --json                         machine-readable output`;

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'savepointctl: safe upgrades and rollbacks of Flink jobs that write to Apache Paimon',
    '',
    'Usage: savepointctl COMMAND [options]   (savepointctl COMMAND --help for its options)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    CONNECTION_HELP,
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

export async function main(
  argv: string[],
  io: { out: (line?: string) => void; err: (line: string) => void } = { out: (l = '') => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`savepointctl: unknown command '${name}' (see savepointctl --help)`);
    return 2;
  }
  let ctx;
  try {
    const parsed = parse(rest, command.flags);
    if (parsed.values.help) {
      io.out(`${command.usage}\n\n${CONNECTION_HELP}\n\n${EXIT_CODES_HELP}`);
      return 0;
    }
    ctx = createContext(parsed, process.env, io.out);
    return await command.run(parsed, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`savepointctl ${name}: ${oneLine(err.message)}`);
      return 2;
    }
    // Input that does not fit the workflow's schema (flags or --input JSON) is wrong usage too.
    if (err instanceof InvalidUpgradeInputError || err instanceof InvalidRestoreInputError || err instanceof InvalidScheduleInputError) {
      io.err(`savepointctl ${name}: ${err.problems.join('; ')}`);
      return 2;
    }
    const lost = connectionLost(err);
    if (lost !== undefined && ctx) {
      io.err(`savepointctl ${name}: ${connectionLostText(ctx.config.temporal.address, lost, ctx.workflowId)}`);
      return 1;
    }
    io.err(`savepointctl ${name}: ${oneLine(failureReason(err))}`);
    return 1;
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, '; ');
