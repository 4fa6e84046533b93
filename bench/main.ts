// `npm run bench`: P1 (upgrade workflow vs the direct floor), P2 (vs the manual CLI route), P3
// (restore workflow vs the direct floor) on the real stack, P4 (scale, against a fake Flink), P5
// (application mode: upgrade and restore workflows vs the local launcher driven by hand). Results go to bench-results/<timestamp>.json and a
// short table to stdout; progress goes to stderr. Targets are reported, never asserted; a P4 run that
// does not end as it would on a real stack (restorable, upgraded) or a call the fake cannot answer
// is not a measurement, nor is a P5 run that failed: each is listed on stderr and the exit code is 1.
//   BENCH_RUNS=3            runs of each route in P1/P2/P3 (alternating, medians reported)
//   BENCH_WARMUP=2          rounds of P1/P2/P3/P5 run first and not measured (a failed one stops the benchmark)
//   BENCH_ONLY=P1,P2,P3,P4,P5  the parts to run (comma-separated, any case)
//   BENCH_P5=upgrade,restore  the operations P5 measures (both by default)
//   BENCH_P4_WORKFLOWS=1000 upgrades, and savepoint workflows, in P4
//   BENCH_P4_FANOUT=schedule|direct   how P4 starts the savepoint fan-out
//   BENCH_P4_PHASES=fanout,upgrades   the P4 phases to run
//   BENCH_P4_TIMEOUT_S=120  cut each P4 phase short after this long (default 120 s fan-out, 180 s upgrades)
//   BENCH_P4_WORKERS=1      worker processes on the phase's task queue
//   BENCH_FAKE_SAVEPOINT_MS=1000   how long the fake takes for a savepoint
//   BENCH_P4_KILL_AFTER_S=20   SIGKILL the first worker this long into each phase and start another
//   BENCH_P4_WORKER_OPTIONS='{"maxCachedWorkflows":200}'   an experiment: WorkerOptions on top of createWorker's
//   BENCH_P4_WORKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'   Node flags for P4's worker (profiling)
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { repoRoot } from '../src/config/repo-root';
import { appBenchProblems, runAppBench, summariseP5 } from './app-bench';
import { exitCleanlyOnInterrupt } from './interrupt';
import { runScaleBench, scaleBenchProblems } from './p4-scale';
import { runRestoreBench, summariseP3 } from './restore-bench';
import type { Route, RouteResult } from './routes';
import { millis, mib, ratio, seconds, table, verdict, type Row } from './stats';
import { config } from './stack';
import { cpuText, pathText, queuedRows } from './why';
import { runUpgradeBench, summariseP1, summariseP2 } from './upgrade-bench';

const log = (line: string) => process.stderr.write(`${line}\n`);

function options() {
  const parts = ['P1', 'P2', 'P3', 'P4', 'P5'];
  const only = new Set((process.env.BENCH_ONLY ?? parts.join(',')).split(',').map((s) => s.trim().toUpperCase()).filter(Boolean));
  const unknown = [...only].filter((p) => !parts.includes(p));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown part(s) ${unknown.join(', ')}; choose from ${parts.join(', ')}`);
  const int = (name: string, fallback: number, least = 1) => {
    const value = Number(process.env[name] ?? fallback);
    if (!Number.isInteger(value) || value < least) throw new Error(`${name} must be a whole number >= ${least}, got '${process.env[name]}'`);
    return value;
  };
  const fanOut = process.env.BENCH_P4_FANOUT ?? 'schedule';
  if (fanOut !== 'schedule' && fanOut !== 'direct') throw new Error(`BENCH_P4_FANOUT must be schedule or direct, got '${fanOut}'`);
  const phases = (process.env.BENCH_P4_PHASES ?? 'fanout,upgrades').split(',').map((s) => s.trim());
  if (phases.some((p) => p !== 'fanout' && p !== 'upgrades')) throw new Error(`BENCH_P4_PHASES: choose from fanout, upgrades; got '${phases}'`);
  const p5 = (process.env.BENCH_P5 ?? 'upgrade,restore').split(',').map((s) => s.trim());
  if (p5.length === 0 || p5.some((o) => o !== 'upgrade' && o !== 'restore')) throw new Error(`BENCH_P5: choose from upgrade, restore; got '${p5}'`);
  return {
    only,
    p5Operations: p5 as ('upgrade' | 'restore')[],
    runs: int('BENCH_RUNS', 3),
    warmup: int('BENCH_WARMUP', 2, 0),
    p4Workflows: int('BENCH_P4_WORKFLOWS', 1000),
    fanOut: fanOut as 'schedule' | 'direct',
    phases: phases as ('fanout' | 'upgrades')[],
    p4TimeoutS: process.env.BENCH_P4_TIMEOUT_S ? [int('BENCH_P4_TIMEOUT_S', 1) * 1000, int('BENCH_P4_TIMEOUT_S', 1) * 1000] : undefined,
  };
}

function p1Rows(p1: ReturnType<typeof summariseP1>): Row[] {
  const o = p1.workflowOverheadMedianMs;
  return [
    { part: 'P1', metric: `median wall, workflow (n=${p1.runs.workflow})`, value: seconds(p1.medianWallMs.workflow) },
    { part: 'P1', metric: `median wall, direct floor (n=${p1.runs.direct})`, value: seconds(p1.medianWallMs.direct) },
    { part: 'P1', metric: 'same activity calls on both sides', value: p1.sameActivityCalls ? `yes (${p1.activityCalls.direct[0]?.split(' ').length} calls)` : 'NO: see activityCalls in the JSON' },
    { part: 'P1', metric: 'ratio workflow / direct', value: ratio(p1.ratio), target: '<= 1.05', verdict: verdict(p1.targets.ratioMet) },
    ...queuedRows('P1', p1.savepointQueued),
    {
      part: 'P1',
      metric: 'orchestration (wall - activities running), wf / direct',
      value: `${millis(p1.orchestrationMedianMs.workflow)} / ${millis(p1.orchestrationMedianMs.direct)}`,
    },
    { part: 'P1', metric: 'ratio from orchestration alone', value: ratio(p1.ratioFromOrchestration), target: '<= 1.05', verdict: verdict(p1.ratioFromOrchestration <= 1.05) },
    { part: 'P1', metric: 'median downtime, workflow', value: seconds(p1.medianDowntimeMs.workflow) },
    { part: 'P1', metric: 'median downtime, direct floor', value: seconds(p1.medianDowntimeMs.direct) },
    { part: 'P1', metric: 'downtime workflow - direct', value: millis(p1.downtimeDeltaMs), target: '<= 200 ms', verdict: verdict(p1.targets.downtimeMet) },
    { part: 'P1', metric: 'overhead: client start -> started', value: millis(o.clientToStarted) },
    { part: 'P1', metric: 'overhead: activity schedule-to-start (sum, eager dispatch)', value: millis(o.activityScheduleToStart) },
    { part: 'P1', metric: 'overhead: workflow-task gaps (sum)', value: millis(o.workflowTaskGaps) },
    {
      part: 'P1',
      metric: `  of which ${o.workflowTaskCount} workflow tasks: queued / run`,
      value: `${millis(o.workflowTaskQueued)} / ${millis(o.workflowTaskRun)} (first task ${millis(o.firstWorkflowTaskRun)})`,
    },
    { part: 'P1', metric: 'overhead: activity dispatch to the worker (sum)', value: millis(o.activityDispatch) },
    { part: 'P1', metric: 'overhead: activity completion to the server (sum)', value: millis(o.activityCompletion) },
    { part: 'P1', metric: 'overhead: completed -> client has result', value: millis(o.completedToResult) },
    { part: 'P1', metric: 'activities running, workflow vs direct', value: `${seconds(o.activityExec)} vs ${seconds(p1.directActivityRunMedianMs)}` },
    { part: 'P1', metric: `savepoint poll lag (${config.flink.savepointPollIntervalMs} ms polls), wf / direct`, value: `${millis(p1.pollLagMedianMs.savepoint.workflow)} / ${millis(p1.pollLagMedianMs.savepoint.direct)}` },
    { part: 'P1', metric: 'health gate lag after 1st checkpoint, wf / direct', value: `${millis(p1.pollLagMedianMs.health.workflow)} / ${millis(p1.pollLagMedianMs.health.direct)}` },
    { part: 'P1', metric: `awaitTag (${config.paimon.tagPollIntervalMs} ms polls), wf / direct`, value: `${millis(p1.stepMedianMs.workflow.awaitTag ?? NaN)} / ${millis(p1.stepMedianMs.direct.awaitTag ?? NaN)}` },
    // The checks before the stop (issue 16): preflight time, not downtime.
    {
      part: 'P1',
      metric: 'checks before the stop: checkDeployments / requireRecentCheckpoint, wf / direct',
      value:
        `${millis(p1.stepMedianMs.workflow.checkDeployments ?? NaN)} / ${millis(p1.stepMedianMs.workflow.requireRecentCheckpoint ?? NaN)}, ` +
        `${millis(p1.stepMedianMs.direct.checkDeployments ?? NaN)} / ${millis(p1.stepMedianMs.direct.requireRecentCheckpoint ?? NaN)}`,
    },
    { part: 'P1', metric: 'CPU s during the route, wf / direct', value: cpuText(p1.cpuMedianMs.workflow, p1.cpuMedianMs.direct) },
    ...whyRows('P1', p1.whyCostlierInWorker),
    { part: 'P1', metric: 'after the stop (call: returned +ms), workflow', value: pathText(p1.afterStopMs.workflow) },
    { part: 'P1', metric: 'after the stop (call: returned +ms), direct', value: pathText(p1.afterStopMs.direct) },
  ];
}

/** One row per activity that costs more inside the worker than in the floor, saying what its time went to. */
function whyRows(part: string, lines: string[]): Row[] {
  if (lines.length === 0) return [{ part, metric: 'activities costing more in the worker (> 20 ms and 20 %)', value: 'none' }];
  return lines.map((line) => ({ part, metric: 'costs more in the worker (median wf vs direct)', value: line }));
}

function p2Rows(p2: ReturnType<typeof summariseP2>): Row[] {
  return [
    { part: 'P2', metric: `median wall, workflow (n=${p2.runs.workflow})`, value: seconds(p2.medianWallMs.workflow) },
    { part: 'P2', metric: `median wall, manual: flink stop CLI, no think time (n=${p2.runs.manualCli})`, value: seconds(p2.medianWallMs.manualCli) },
    { part: 'P2', metric: 'ratio workflow / manual (flink stop CLI, as the issue)', value: ratio(p2.ratioCli), target: '<= 0.50', verdict: verdict(p2.targets.ratioCliMet) },
    { part: 'P2', metric: `median wall, manual: REST stop, no think time (n=${p2.runs.manual})`, value: seconds(p2.medianWallMs.manual) },
    { part: 'P2', metric: 'ratio workflow / manual (REST stop, faster floor)', value: ratio(p2.ratio), target: '<= 0.50', verdict: verdict(p2.targets.ratioMet) },
    {
      part: 'P2',
      metric: 'median downtime, workflow / manual CLI / manual REST',
      value: `${seconds(p2.medianDowntimeMs.workflow)} / ${seconds(p2.medianDowntimeMs.manualCli)} / ${seconds(p2.medianDowntimeMs.manual)}`,
    },
  ];
}

function p3Rows(p3: ReturnType<typeof summariseP3>): Row[] {
  const a = p3.approvalMedianMs;
  const w = p3.workflowMedianMs;
  return [
    { part: 'P3', metric: `median wall, restore workflow, approved at once (n=${p3.runs.workflow})`, value: seconds(p3.medianWallMs.workflow) },
    { part: 'P3', metric: `median wall, direct floor: same calls (n=${p3.runs.direct})`, value: seconds(p3.medianWallMs.direct) },
    { part: 'P3', metric: 'same activity calls on both sides', value: p3.sameActivityCalls ? `yes (${p3.activityCalls.direct[0]?.split(' ').length} calls)` : 'NO: see activityCalls in the JSON' },
    { part: 'P3', metric: 'ratio workflow / direct', value: ratio(p3.ratio), target: '<= 1.05', verdict: verdict(p3.targets.ratioMet) },
    { part: 'P3', metric: "ratio less the approver's own reading and signing", value: ratio(p3.ratioLessApprover), target: '<= 1.05', verdict: verdict(p3.targets.ratioLessApproverMet) },
    ...queuedRows('P3', p3.savepointQueued),
    { part: 'P3', metric: 'orchestration (wall - activities running), wf / direct', value: `${millis(p3.orchestrationMedianMs.workflow)} / ${millis(p3.orchestrationMedianMs.direct)}` },
    { part: 'P3', metric: 'ratio from orchestration alone', value: ratio(p3.ratioFromOrchestration), target: '<= 1.05', verdict: verdict(p3.ratioFromOrchestration <= 1.05) },
    { part: 'P3', metric: "  approval: plan seen / approve answered / gap in history / the approver's own", value: `${seconds(a.planSeen)} / ${seconds(a.approveAnswered)} / ${millis(a.approvalGap)} / ${millis(a.approver)}` },
    { part: 'P3', metric: `  ${w.workflowTaskCount} workflow tasks: queued / run; activity dispatch / completion`, value: `${millis(w.workflowTaskQueued)} / ${millis(w.workflowTaskRun)}; ${millis(w.activityDispatch)} / ${millis(w.activityCompletion)}` },
    { part: 'P3', metric: `median wall, minimal: stop, rollback_to, restart (n=${p3.runs.minimal})`, value: seconds(p3.medianWallMs.minimal) },
    { part: 'P3', metric: 'ratio workflow / minimal (what plan, checks, undo cost)', value: ratio(p3.ratioToMinimal) },
    {
      part: 'P3',
      metric: 'median downtime, workflow / direct / minimal',
      value: `${seconds(p3.medianDowntimeMs.workflow)} / ${seconds(p3.medianDowntimeMs.direct)} / ${seconds(p3.medianDowntimeMs.minimal)}`,
    },
    { part: 'P3', metric: 'downtime ratio workflow / minimal', value: ratio(p3.downtimeToMinimal), target: '<= 1.50', verdict: verdict(p3.targets.downtimeToMinimalMet) },
    { part: 'P3', metric: 'after the stop (call: returned +ms), workflow', value: pathText(p3.afterStopMs.workflow) },
    { part: 'P3', metric: 'after the stop (call: returned +ms), direct', value: pathText(p3.afterStopMs.direct) },
    { part: 'P3', metric: 'after the stop (call: returned +ms), minimal', value: pathText(p3.afterStopMs.minimal) },
    { part: 'P3', metric: 'CPU s during the route, wf / direct / minimal', value: cpuText(p3.cpuMedianMs.workflow, p3.cpuMedianMs.direct, p3.cpuMedianMs.minimal) },
    ...whyRows('P3', p3.whyCostlierInWorker),
    {
      part: 'P3',
      metric: 'health gate lag after 1st checkpoint, wf / direct / minimal',
      value: `${millis(p3.pollLagMedianMs.health.workflow)} / ${millis(p3.pollLagMedianMs.health.direct)} / ${millis(p3.pollLagMedianMs.health.minimal)}`,
    },
  ];
}

function p5Rows(p5: ReturnType<typeof summariseP5>): Row[] {
  const rows: Row[] = [];
  for (const operation of ['upgrade', 'restore'] as const) {
    const o = p5[operation];
    if (o.runs.workflow + o.runs.byHand + o.runs.byHandPrepared + o.runs.failed === 0) continue;
    const pair = (x: { workflow: number; byHand: number }, f: (ms: number) => string) => `${f(x.workflow)} / ${f(x.byHand)}`;
    rows.push(
      { part: 'P5', metric: `${operation}: runs ok, workflow / by hand (failed)`, value: `${o.runs.workflow} / ${o.runs.byHand} (${o.runs.failed})` },
      { part: 'P5', metric: `${operation}: median downtime, workflow / by hand`, value: pair(o.medianDowntimeMs, seconds) },
      { part: 'P5', metric: `${operation}: downtime workflow - by hand`, value: millis(o.downtimeDeltaMs), target: '<= 1000 ms', verdict: verdict(o.targets.downtimeMet) },
      { part: 'P5', metric: `${operation}: median wall, workflow / by hand (difference)`, value: `${pair(o.medianWallMs, seconds)} (${millis(o.wallDeltaMs)})` },
      { part: 'P5', metric: `${operation}: launcher (its start began -> answer), wf / by hand`, value: pair(o.launchMedianMs, seconds) },
      { part: 'P5', metric: `${operation}: workflow's deploy before the launcher (reap, registry)`, value: millis(o.beforeLaunchMedianMs) },
      { part: 'P5', metric: `${operation}: savepoint poll lag (stop returned - old job's end), wf / by hand`, value: pair(o.savepointPollLagMedianMs, millis) },
      { part: 'P5', metric: `${operation}: health lag after 1st checkpoint, wf / by hand`, value: pair(o.healthPollLagMedianMs, millis) },
      { part: 'P5', metric: `${operation}: after the stop (call: returned +ms), workflow`, value: pathText(o.afterStopMs.workflow) },
      { part: 'P5', metric: `${operation}: after the stop (call: returned +ms), by hand`, value: pathText(o.afterStopMs.byHand, 'launch') },
      { part: 'P5', metric: `${operation}: CPU s during the route, wf / by hand`, value: cpuText(o.cpuMedianMs.workflow, o.cpuMedianMs.byHand) },
      { part: 'P5', metric: `${operation}: CPU s while the job was down, wf / by hand`, value: cpuText(o.downtimeCpuMedianMs.workflow, o.downtimeCpuMedianMs.byHand) },
      { part: 'P5', metric: `${operation}: by hand with prepare before the stop: runs ok, median downtime`, value: `${o.runs.byHandPrepared}, ${seconds(o.byHandPrepared.medianDowntimeMs)}` },
      { part: 'P5', metric: `${operation}: downtime workflow - by hand with prepare (like with like)`, value: millis(o.byHandPrepared.workflowMinusMs) },
      { part: 'P5', metric: `${operation}: after the stop (call: returned +ms), by hand with prepare`, value: pathText(o.byHandPrepared.afterStopMs, 'launch') },
    );
  }
  return rows;
}

function p4Rows(p4: Awaited<ReturnType<typeof runScaleBench>>): Row[] {
  const l = p4.fake.latency;
  const fake = `FAKE Flink: ${l.callMinMs}-${l.callMaxMs} ms/call, savepoint ${l.savepointMs} ms, checkpoint every ${l.checkpointIntervalMs} ms`;
  const { fanOut: f, upgrades: u } = p4;
  const rows: Row[] = [{ part: 'P4', metric: 'against', value: fake }];
  if (process.env.BENCH_P4_WORKER_OPTIONS) rows.push({ part: 'P4', metric: 'worker', value: p4.workerOptions });
  const cut = (x: { terminated: number; cutShortAfterMs?: number }) => (x.terminated > 0 ? `, ${x.terminated} cut short at ${seconds(x.cutShortAfterMs ?? NaN)}` : '');
  const workerRows = (phase: string, x: { workers: { deaths: string[]; killed?: { afterMs: number; replacementReadyMs?: number } } }): Row[] => [
    { part: 'P4', metric: `${phase}: worker deaths`, value: x.workers.deaths.length === 0 ? 'none' : x.workers.deaths.join('; '), target: 'none', verdict: verdict(x.workers.deaths.length === 0) },
    ...(x.workers.killed
      ? [{ part: 'P4', metric: `${phase}: worker SIGKILLed at`, value: `${seconds(x.workers.killed.afterMs)}, replacement ready ${seconds(x.workers.killed.replacementReadyMs ?? NaN)} later` }]
      : []),
  ];
  if (f) {
    rows.push(...workerRows('fan-out', f));
    rows.push(
    {
      part: 'P4',
      metric: `fan-out (${f.mode}): ${f.restorable}/${f.requested} restorable${cut(f)}`,
      value: `${seconds(f.wallMs)}, ${f.throughputPerS.toFixed(1)} wf/s`,
      target: '< 60 s',
      verdict: verdict(p4.targets.fanOutMet),
    },
    { part: 'P4', metric: 'fan-out: p50 / p99 workflow latency', value: `${seconds(f.p50LatencyMs)} / ${seconds(f.p99LatencyMs)}` },
    { part: 'P4', metric: 'fan-out: worker peak RSS', value: mib(f.worker.peakRss), target: '< 512 MiB', verdict: verdict(f.worker.peakRss < 512 * 2 ** 20) },
    );
  }
  if (u) {
    rows.push(...workerRows('upgrades', u));
    rows.push(
    { part: 'P4', metric: `upgrades: ${u.upgraded}/${u.requested} upgraded${cut(u)}`, value: `${seconds(u.wallMs)}, ${u.throughputPerS.toFixed(1)} wf/s` },
    { part: 'P4', metric: 'upgrades: p50 / p99 workflow latency', value: `${seconds(u.p50LatencyMs)} / ${seconds(u.p99LatencyMs)}` },
    { part: 'P4', metric: "upgrades: GET /jobs/:id/config (deployJob's lookup)", value: String(u.fakeRequests['GET /jobs/:id/config'] ?? 0) },
    { part: 'P4', metric: 'upgrades: worker peak RSS', value: mib(u.worker.peakRss), target: '< 512 MiB', verdict: verdict(u.worker.peakRss < 512 * 2 ** 20) },
    );
  }
  return rows;
}

async function main(): Promise<void> {
  const opts = options();
  // The worker's and workflows' INFO logs would bury the table. Ctrl-C is ours to handle (cleanup),
  // not the Runtime's (which would only stop the worker and leave the benchmark running).
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  exitCleanlyOnInterrupt(log);
  const startedAt = new Date();
  const out: Record<string, unknown> = {
    startedAt: startedAt.toISOString(),
    machine: { cpus: os.cpus().length, memoryBytes: os.totalmem(), node: process.version, platform: `${os.platform()} ${os.release()}` },
    options: { only: [...opts.only], runs: opts.runs, p4Workflows: opts.p4Workflows, p4FanOut: opts.fanOut },
  };
  const rows: Row[] = [];
  const problems: string[] = [];

  const routes: Route[] = [
    'workflow',
    ...(opts.only.has('P1') ? (['direct'] as const) : []),
    ...(opts.only.has('P2') ? (['manual', 'manual-cli'] as const) : []),
  ];
  if (routes.length > 1) {
    log(`P1/P2 on the real stack: ${opts.runs} round(s) of ${routes.join(', ')}, order rotating`);
    const results: RouteResult[] = await runUpgradeBench({ runs: opts.runs, warmup: opts.warmup, routes, log });
    out.upgradeRuns = results;
    if (opts.only.has('P1')) rows.push(...p1Rows((out.P1 = summariseP1(results)) as ReturnType<typeof summariseP1>));
    if (opts.only.has('P2')) rows.push(...p2Rows((out.P2 = summariseP2(results)) as ReturnType<typeof summariseP2>));
  }
  if (opts.only.has('P3')) {
    log(`P3 on the real stack: ${opts.runs} round(s) of restore workflow, direct, minimal, order rotating`);
    const results = await runRestoreBench({ runs: opts.runs, warmup: opts.warmup, log });
    out.restoreRuns = results;
    rows.push(...p3Rows((out.P3 = summariseP3(results)) as ReturnType<typeof summariseP3>));
  }
  if (opts.only.has('P5')) {
    log(`P5 on the real stack: application mode, ${opts.runs} round(s) of ${opts.p5Operations.join(' and of ')}, workflow vs by hand, and by hand with prepare`);
    const results = await runAppBench({ runs: opts.runs, warmup: opts.warmup, operations: opts.p5Operations, log });
    out.appRuns = results;
    rows.push(...p5Rows((out.P5 = summariseP5(results)) as ReturnType<typeof summariseP5>));
    problems.push(...appBenchProblems(results));
  }
  if (opts.only.has('P4')) {
    const server = process.env.BENCH_P4_TEMPORAL_ADDRESS ? `the Temporal server at ${process.env.BENCH_P4_TEMPORAL_ADDRESS}` : 'a private Temporal dev server';
    log(`P4 on ${server} and a FAKE Flink: ${opts.phases.join(' and ')} of ${opts.p4Workflows} workflows`);
    const p4 = await runScaleBench({
      workflows: opts.p4Workflows,
      phases: opts.phases,
      fanOutTimeoutMs: opts.p4TimeoutS?.[0] ?? 120_000,
      upgradeTimeoutMs: opts.p4TimeoutS?.[1] ?? 180_000,
      fanOut: opts.fanOut,
      log,
    });
    out.P4 = p4;
    rows.push(...p4Rows(p4));
    // A run that did not complete as on a real stack is not a measurement: say so, and fail.
    problems.push(...scaleBenchProblems(p4).map((p) => `P4 ${p}`));
  }

  out.finishedAt = new Date().toISOString();
  const dir = path.join(repoRoot(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(table(rows));
  console.log(`\nfull results: ${path.relative(process.cwd(), file)}`);
  if (problems.length > 0) {
    for (const p of problems) log(`FAILED: ${p}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
