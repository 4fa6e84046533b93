// `npm run soak`: the long randomized exactly-once soak on the real stack (bash scripts/stack.sh up).
//   SOAK_SEED=123      replay a run (default: a fresh seed, printed first)
//   SOAK_CYCLES=8      cycles of upgrade / savepoint / restore, each followed by the check
//   SOAK_MINUTES=30    no cycle starts after this
//   SOAK_PIPELINE=shapes  the shapes pipeline (demo/sql/shapes: updated, deleted, partial-update,
//                      aggregation and append tables) instead of the sequence (soak/sql)
//   SOAK_TARGET=application  every version in a cluster of its own (application mode), started through
//                      the launcher SOAK_LAUNCHER names (local, the default, or command: APP_LAUNCH_COMMAND)
// Progress on stderr; the summary line on stdout; everything in soak-results/<time>-seed<seed>.json.
// Exit 0 when every check passed, 1 when one did not (the tables and savepoints are then kept).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { repoRoot } from '../src/config/repo-root';
import { placementFor, targetFrom } from './placement';
import { freshSeed } from './prng';
import { runSoak, summaryLine } from './soak';

const PREFIX = 'soak-run-';

function whole(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}, got '${raw}'`);
  return value;
}

async function main(): Promise<number> {
  const seed = whole('SOAK_SEED', freshSeed(), 0);
  const cycles = whole('SOAK_CYCLES', 8, 1);
  const minutes = whole('SOAK_MINUTES', 30, 1);
  const target = targetFrom(process.env);
  const pipeline = process.env.SOAK_PIPELINE?.trim() || 'sequence';
  if (pipeline !== 'sequence' && pipeline !== 'shapes') throw new Error(`SOAK_PIPELINE must be sequence or shapes, got '${pipeline}'`);
  const placement = placementFor(target);
  console.log(`soak seed=${seed} (replay with SOAK_SEED=${seed}) cycles=${cycles} minutes=${minutes} target=${placement.label} pipeline=${pipeline}`);
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const runId = Date.now().toString(36);
  let stopping = false;
  const interrupted = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`${signal}: cancelling this soak's job (send it again to quit at once)\n`);
    void placement.stopAll(`${PREFIX}${runId}`).finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);

  const report = await runSoak({ seed, cycles, minutes, database: 'soak', prefix: PREFIX, runId, everyAction: cycles >= 3, target, pipeline });
  const dir = path.join(repoRoot(), 'soak-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  for (const reused of report.reusedSavepointIds) console.log(`  savepoint id of an older timeline made again: ${reused}`);
  for (const finding of report.findings) console.log(`  finding: ${finding}`);
  for (const d of report.diagnoses) console.log(`  ${d.table}: present ${d.present.join(' ')}; committed twice ${d.committedTwice.join(' ') || 'none'}; wrong version ${d.wrongVersion.join(' ') || 'none'}`);
  console.log(`${summaryLine(report)} (${report.seconds}s, load ${report.load.start.join(' ')} -> ${report.load.end.join(' ')}, ${file})`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(2);
  },
);
