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

/**
 * A job's plan never changes while it lives (a new version is a new job id), so the descriptions
 * are kept by job id for the next call: concurrent operations on a cluster of N jobs read each
 * plan once, not N times each. The read itself is kept, not only its answer: N operations that
 * start at the same moment (a thousand scheduled savepoints at one minute) wait for the same
 * read instead of each sending N (bench P4 saw 33,000 plan reads for 400 savepoints before this).
 * Entries of jobs no longer live are dropped on every call; a read that failed is not kept.
 */
export class PlanCache {
  readonly #plans = new Map<string, Promise<string[] | undefined>>();
  #reading = 0;
  readonly #waiting: (() => void)[] = [];

  /** The job's plan descriptions, read at most PLAN_READS_AT_ONCE at a time for all callers. */
  nodes(flink: FlinkClient, jobId: string): Promise<string[] | undefined> {
    let plan = this.#plans.get(jobId);
    if (!plan) {
      plan = this.#bounded(() => planNodes(flink, jobId));
      this.#plans.set(jobId, plan);
      // A job that ended has no plan to keep; a failed read is tried again by the next call.
      void plan.then(
        (nodes) => nodes === undefined && this.#plans.get(jobId) === plan && this.#plans.delete(jobId),
        () => this.#plans.get(jobId) === plan && this.#plans.delete(jobId),
      );
    }
    return plan;
  }

  /** Forgets the jobs not in `live`. */
  keepOnly(live: Set<string>): void {
    for (const jobId of this.#plans.keys()) if (!live.has(jobId)) this.#plans.delete(jobId);
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
  const { jobs } = await flink.jobsOverview();
  const live = jobs.filter((j) => !TERMINAL_STATES.has(j.state));
  plans.keepOnly(new Set(live.map((j) => j.jid)));
  const allNodes = await Promise.all(live.map((job) => plans.nodes(flink, job.jid)));
  const found: TableJob[] = [];
  for (const [i, job] of live.entries()) {
    const nodes = allNodes[i];
    // The job ended between the overview and its plan: it writes nothing any more.
    if (!nodes) continue;
    const writes = new Set<string>();
    const reads = new Map<string, string | undefined>();
    for (const description of nodes) {
      const lines = description.split(/<br\/>/).map((l) => l.replace(/^[\s:|+-]+/, '').trim());
      for (const line of lines) {
        const sink = PAIMON_SINK_OPERATOR.exec(line);
        for (const t of sink ? (byName.get(sink[1]!) ?? []) : []) writes.add(t);
        for (const m of line.matchAll(SOURCE_SCAN)) {
          const ref = `${m[2]}.${m[3]}`;
          if (!wanted.has(ref)) continue;
          const consumerId = CONSUMER_ID.exec(m[4] ?? '')?.[1];
          reads.set(ref, reads.get(ref) ?? consumerId);
        }
      }
    }
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
