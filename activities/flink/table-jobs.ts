// Which live jobs write or read the sink tables, whatever their names: read from each job's plan
// (GET /jobs/:jobid/plan), the only place Flink's REST API says what a job touches.
import { setTimeout } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { TableJob } from '../contract';
import { TableRefSchema } from '../../src/domain/model';
import { z } from 'zod';
import { HttpStatusError } from '../http';
import type { FlinkClient } from './client';
import { parseInput } from './inputs';
import { summary, TERMINAL_STATES } from './jobs';

const FindTableJobsInput = z.object({ tables: z.array(TableRefSchema).min(1) });

/**
 * Paimon names its sink operators after the table alone (FlinkSink: `Writer : t`,
 * `Writer(write-only) : t`, `Global Committer : t`; append tables add `Compact Coordinator: t` and
 * `Compact Worker: t`), without the database: a writer is matched by table name. Measured on
 * Flink 1.20.3 + Paimon 1.3.1 (docs/restore.md).
 */
const PAIMON_SINK_OPERATOR = /^(?:Writer(?:\(write-only\))?|Global Committer|Compact Coordinator|Compact Worker)\s*:\s*([^\s<]+)\s*$/;
/** The planner names a source by its full identifier: `TableSourceScan(table=[[catalog, db, t]], ...)`. */
const SOURCE_SCAN = /\b(?:TableSourceScan|LookupJoin)\(table=\[\[?([^,\]\s]+)(?:,\s*|\.)([^,\]\s]+)(?:,\s*|\.)([^,\]\s]+)\]\]?([^<]*)/g;
const CONSUMER_ID = /consumer-id=([^,}\s\]]+)/;

/** What a job's plan says of Paimon tables: the table names its sink operators write, the tables its sources scan. */
interface PlanTables {
  /** table names without the database (Paimon's sink operators name the table alone) */
  writes: Set<string>;
  /** 'database.table' with the source's consumer-id hint */
  reads: { ref: string; consumerId?: string }[];
}

/**
 * A job's plan never changes while it lives (a new version is a new job id), so what it says of
 * tables is kept by job id for the next call: concurrent operations on a cluster of N jobs read and
 * parse each plan once, not N times each. The read itself is kept, not only its answer: N
 * operations that start at the same moment (a thousand scheduled savepoints at one minute) wait for
 * the same read instead of each sending N (bench P4 saw 33,000 plan reads for 400 savepoints before
 * this). So is the jobs overview while it is being read: calls that come meanwhile take its answer
 * instead of each parsing a list of every job of the cluster (5,000 savepoints at once on a cluster
 * of 5,000 jobs held ~70 such lists and ~250,000 promises, and the worker ran out of heap).
 * Entries of jobs no longer live are dropped on every call; a read that failed is not kept.
 */
export class PlanCache {
  readonly #plans = new Map<string, Promise<PlanTables | undefined>>();
  /** the answers of the reads in #plans that succeeded, for calls that need no promise per job */
  readonly #known = new Map<string, PlanTables>();
  readonly #overviews = new Map<FlinkClient, ReturnType<FlinkClient['jobsOverview']>>();
  #reading = 0;
  readonly #waiting: (() => void)[] = [];

  /** The cluster's jobs: the overview read in flight when there is one, else a new read. */
  overview(flink: FlinkClient): ReturnType<FlinkClient['jobsOverview']> {
    let read = this.#overviews.get(flink);
    if (!read) {
      read = flink.jobsOverview();
      this.#overviews.set(flink, read);
      const done = () => void (this.#overviews.get(flink) === read && this.#overviews.delete(flink));
      read.then(done, done);
    }
    return read;
  }

  /** What the job's plan says of tables, read at most PLAN_READS_AT_ONCE at a time for all callers. */
  tables(flink: FlinkClient, jobId: string): PlanTables | Promise<PlanTables | undefined> {
    const known = this.#known.get(jobId);
    if (known) return known;
    let plan = this.#plans.get(jobId);
    if (!plan) {
      plan = this.#bounded(() => planNodes(flink, jobId)).then((nodes) => (nodes === undefined ? undefined : planTables(nodes)));
      this.#plans.set(jobId, plan);
      // A job that ended has no plan to keep; a failed read is tried again by the next call.
      void plan.then(
        (tables) => {
          if (this.#plans.get(jobId) !== plan) return;
          if (tables === undefined) this.#plans.delete(jobId);
          else this.#known.set(jobId, tables);
        },
        () => this.#plans.get(jobId) === plan && this.#plans.delete(jobId),
      );
    }
    return plan;
  }

  /** Forgets the jobs not in `live`. */
  keepOnly(live: Set<string>): void {
    for (const jobId of this.#plans.keys()) {
      if (live.has(jobId)) continue;
      this.#plans.delete(jobId);
      this.#known.delete(jobId);
    }
  }

  jobIds(): string[] {
    return [...this.#plans.keys()];
  }

  async #bounded<T>(read: () => Promise<T>): Promise<T> {
    while (this.#reading >= PLAN_READS_AT_ONCE) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#reading++;
    try {
      return await read();
    } finally {
      this.#reading--;
      this.#waiting.shift()?.();
    }
  }
}

/** Plan reads in flight at once per worker: a cluster of a thousand jobs is not sent a thousand requests at once. */
const PLAN_READS_AT_ONCE = 16;

export async function findTableJobs(flink: FlinkClient, input: unknown, plans: PlanCache = new PlanCache()): Promise<TableJob[]> {
  const { tables } = parseInput('findTableJobs', FindTableJobsInput, input);
  const byName = new Map<string, string[]>();
  for (const t of tables) {
    const name = t.slice(t.indexOf('.') + 1);
    byName.set(name, [...(byName.get(name) ?? []), t]);
  }
  const wanted = new Set(tables);
  const { jobs } = await plans.overview(flink);
  const live = jobs.filter((j) => !TERMINAL_STATES.has(j.state));
  plans.keepOnly(new Set(live.map((j) => j.jid)));
  const planOf: (PlanTables | undefined | Promise<PlanTables | undefined>)[] = live.map((job) => plans.tables(flink, job.jid));
  // The plans not read before are awaited one after another (their reads are all under way): a call
  // holds one waiting promise, not one per job of the cluster (5,000 savepoints at once while a
  // cluster's 5,000 plans were being read held ~450,000, and the worker ran out of heap).
  for (const [i, plan] of planOf.entries()) if (plan instanceof Promise) planOf[i] = await plan;
  const found: TableJob[] = [];
  for (const [i, job] of live.entries()) {
    const plan = planOf[i] as PlanTables | undefined;
    // The job ended between the overview and its plan: it writes nothing any more.
    if (!plan) continue;
    const writes = new Set<string>();
    for (const name of plan.writes) for (const t of byName.get(name) ?? []) writes.add(t);
    const reads = new Map<string, string | undefined>();
    for (const { ref, consumerId } of plan.reads) if (wanted.has(ref)) reads.set(ref, reads.get(ref) ?? consumerId);
    if (writes.size === 0 && reads.size === 0) continue;
    const { jobId, name, state } = summary(job);
    found.push({
      jobId,
      name,
      state,
      writes: tables.filter((t) => writes.has(t)),
      reads: tables.filter((t) => reads.has(t)).map((table) => ({ table, ...(reads.get(table) ? { consumerId: reads.get(table)! } : {}) })),
    });
  }
  return found;
}

/** The table names a plan's sink operators write, and the tables its sources scan (first consumer-id hint of each). */
function planTables(descriptions: string[]): PlanTables {
  const writes = new Set<string>();
  const reads = new Map<string, string | undefined>();
  for (const description of descriptions) {
    const lines = description.split(/<br\/>/).map((l) => l.replace(/^[\s:|+-]+/, '').trim());
    for (const line of lines) {
      const sink = PAIMON_SINK_OPERATOR.exec(line);
      if (sink) writes.add(sink[1]!);
      for (const m of line.matchAll(SOURCE_SCAN)) {
        const ref = `${m[2]}.${m[3]}`;
        const consumerId = CONSUMER_ID.exec(m[4] ?? '')?.[1];
        reads.set(ref, reads.get(ref) ?? consumerId);
      }
    }
  }
  return { writes, reads: [...reads].map(([ref, consumerId]) => (consumerId ? { ref, consumerId } : { ref })) };
}

/**
 * The descriptions of the job's plan nodes; undefined for a job Flink no longer knows. A job still
 * INITIALIZING has no plan yet: it is read again, and a job that stays without one fails the read
 * (retryable): it may be a writer, and a plan that cannot see it must not say there is none.
 */
async function planNodes(flink: FlinkClient, jobId: string): Promise<string[] | undefined> {
  for (let attempt = 1; ; attempt++) {
    let nodes: { description?: string }[] | undefined;
    try {
      nodes = (await flink.jobPlan(jobId)).plan.nodes;
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) return undefined;
      throw err;
    }
    if (nodes) return nodes.map((n) => n.description ?? '');
    if (attempt >= PLAN_READS) {
      throw ApplicationFailure.retryable(`job ${jobId} has no plan in Flink yet (still initializing): cannot tell which tables it writes`, 'JobPlanNotReady');
    }
    await setTimeout(PLAN_PAUSE_MS);
  }
}

const PLAN_READS = 10;
const PLAN_PAUSE_MS = 500;
