// The FAKE cluster behind fake-flink-server.ts: jobs, checkpoints, savepoints, Paimon tables and
// tags, all in memory and advanced lazily by the clock (the SQL gateway's side is fake-gateway.ts).
// It models only what the upgrade and savepoint workflows observe, with the timings in FAKE_LATENCY.
import { createHash, randomBytes } from 'node:crypto';

/** What the fake simulates; printed with every P4 result. */
export const FAKE_LATENCY = {
  /** every REST or gateway call answers after a uniformly random delay in this range */
  callMinMs: 20,
  callMaxMs: 50,
  /**
   * a savepoint (stop or intermediate) completes this long after its trigger; its tag is on the job's
   * tables from then on. BENCH_FAKE_SAVEPOINT_MS moves it (a long one keeps every run open and cached:
   * the worker's memory per open run, bench/README.md)
   */
  savepointMs: Number(process.env.BENCH_FAKE_SAVEPOINT_MS ?? 1_000),
  /** a submitted job is INITIALIZING this long before RUNNING */
  jobStartMs: 500,
  /** a RUNNING job completes a checkpoint this often (the health gate waits for one) */
  checkpointIntervalMs: 1_000,
};

type State = 'INITIALIZING' | 'RUNNING' | 'FINISHED' | 'CANCELED';

interface Checkpoint {
  id: number;
  status: 'COMPLETED';
  is_savepoint: boolean;
  trigger_timestamp: number;
  latest_ack_timestamp: number;
  checkpoint_type: string;
  external_path: string | null;
}

interface Trigger {
  id: number;
  stop: boolean;
  completeAt: number;
  requestedAt: number;
  location: string;
  done: boolean;
}

export interface FakeJob {
  jid: string;
  name: string;
  state: State;
  startTime: number;
  runningAt: number;
  endTime?: number;
  tables: string[];
  userConfig: Record<string, string>;
  nextId: number;
  lastPeriodic: number;
  completed: number;
  history: Checkpoint[];
  latestSavepoint?: Checkpoint;
  triggers: Map<string, Trigger>;
}

const TERMINAL: State[] = ['FINISHED', 'CANCELED'];
/** How long a seeded job has been RUNNING when a phase starts. */
const SEEDED_UPTIME_MS = 60_000;
const SOURCE_VERTEX = 'cbc357ccb763df2852fee8c4fc7d55f2';
/** A writer vertex's id: stable per table name, as Flink's are per operator uid. */
const writerVertex = (table: string) => createHash('md5').update(`writer:${table}`).digest('hex');
/** Paimon names its sink operators after the table alone, without the database (activities/flink/table-jobs.ts). */
const tableName = (table: string) => table.slice(table.indexOf('.') + 1);
const HISTORY = 10; // web.checkpoints.history

export class FakeCluster {
  private readonly jobs = new Map<string, FakeJob>();
  /** Paimon tables, 'db.table' -> their tag names */
  readonly tables = new Map<string, Set<string>>();
  /** completed savepoints, location -> savepoint id */
  readonly savepointIds = new Map<string, number>();

  get size(): number {
    return this.jobs.size;
  }

  job(jid: string): FakeJob | undefined {
    const job = this.jobs.get(jid);
    if (job) this.advance(job, Date.now());
    return job;
  }

  seed(specs: { name: string; tables: string[] }[]): { jid: string; name: string }[] {
    const now = Date.now();
    return specs.map(({ name, tables }) => {
      for (const t of tables) if (!this.tables.has(t)) this.tables.set(t, new Set());
      // Running for a while, and checkpointed since it went RUNNING: the checks before a savepoint
      // (requireRecentCheckpoint) look for a checkpoint triggered after the job last started.
      const startTime = now - SEEDED_UPTIME_MS;
      const job = this.newJob(name, tables, {}, startTime, 1);
      job.state = 'RUNNING';
      job.lastPeriodic = now;
      this.record(job, { id: job.nextId++, is_savepoint: false, trigger_timestamp: now - 50, latest_ack_timestamp: now, checkpoint_type: 'CHECKPOINT', external_path: null });
      return { jid: job.jid, name };
    });
  }

  overview() {
    const running = [...this.jobs.values()].filter((j) => j.state === 'RUNNING').length;
    return { taskmanagers: 1, 'slots-total': 100_000, 'slots-available': 100_000 - running, 'jobs-running': running, 'flink-version': '1.20.3' };
  }

  jobsOverview() {
    const now = Date.now();
    return [...this.jobs.values()].map((j) => {
      this.advance(j, now);
      return { jid: j.jid, name: j.name, state: j.state, 'start-time': j.startTime, 'end-time': j.endTime ?? -1, 'last-modification': now };
    });
  }

  details(j: FakeJob) {
    const vertex = j.state === 'INITIALIZING' ? 'CREATED' : j.state;
    return {
      jid: j.jid,
      name: j.name,
      isStoppable: false,
      state: j.state,
      'start-time': j.startTime,
      'end-time': j.endTime ?? -1,
      now: Date.now(),
      timestamps: {
        INITIALIZING: j.startTime,
        RUNNING: j.state === 'INITIALIZING' ? 0 : j.runningAt,
        FINISHED: j.state === 'FINISHED' ? j.endTime : 0,
        CANCELED: j.state === 'CANCELED' ? j.endTime : 0,
      },
      // ids, parallelism and max parallelism: the upgrade's parallelism plan reads them (planUpgradeShape)
      vertices: [
        { id: SOURCE_VERTEX, name: 'Source: demo_sequence', status: vertex, parallelism: 1, maxParallelism: 128 },
        ...j.tables.map((t) => ({ id: writerVertex(t), name: `Writer : ${tableName(t)} -> Global Committer : ${tableName(t)}`, status: vertex, parallelism: 1, maxParallelism: 128 })),
      ],
    };
  }

  /**
   * GET /jobs/:id/plan as Flink 1.20 answers it: `{"plan": {}}` while INITIALIZING, then one node
   * per vertex whose description names the operators chained in it (`<br/>`-separated), Paimon's
   * writer and committer named after the table: what findTableJobs reads to tell who writes a table.
   */
  plan(j: FakeJob) {
    if (j.state === 'INITIALIZING') return { plan: {} };
    return {
      plan: {
        jid: j.jid,
        name: j.name,
        type: 'STREAMING',
        nodes: [
          { id: SOURCE_VERTEX, parallelism: 1, operator: '', description: 'Source: demo_sequence<br/>' },
          ...j.tables.map((t) => ({
            id: writerVertex(t),
            parallelism: 1,
            operator: '',
            description: `Writer : ${tableName(t)}<br/>+- Global Committer : ${tableName(t)}<br/>   +- end: Writer<br/>`,
            inputs: [{ num: 0, id: SOURCE_VERTEX, ship_strategy: 'FORWARD', exchange: 'pipelined_bounded' }],
          })),
        ],
      },
    };
  }

  config(j: FakeJob) {
    return { jid: j.jid, name: j.name, 'execution-config': { 'job-parallelism': 1, 'user-config': j.userConfig } };
  }

  checkpoints(j: FakeJob) {
    const pending = [...j.triggers.values()].filter((t) => !t.done).length;
    return {
      counts: { completed: j.completed, failed: 0, in_progress: pending },
      latest: {
        completed: [...j.history].reverse().find((c) => !c.is_savepoint) ?? null,
        savepoint: j.latestSavepoint ?? null,
        failed: null,
        restored: null,
      },
      history: [...j.history].reverse(),
    };
  }

  cancel(j: FakeJob): void {
    if (TERMINAL.includes(j.state)) return;
    j.state = 'CANCELED';
    j.endTime = Date.now();
  }

  /** Triggers (or finds, by trigger id) a savepoint; its id is taken now, it completes later. */
  savepoint(j: FakeJob, triggerId: string, stop: boolean): string {
    if (j.triggers.has(triggerId)) return triggerId;
    if (j.state !== 'RUNNING') throw new Error(`job ${j.jid} is ${j.state}`);
    const now = Date.now();
    j.triggers.set(triggerId, {
      id: j.nextId++,
      stop,
      requestedAt: now,
      completeAt: now + FAKE_LATENCY.savepointMs,
      location: `s3://bench-fake/savepoints/savepoint-${j.jid.slice(0, 6)}-${randomBytes(6).toString('hex')}`,
      done: false,
    });
    return triggerId;
  }

  savepointStatus(j: FakeJob, triggerId: string) {
    const t = j.triggers.get(triggerId);
    if (!t) return undefined;
    return t.done ? { status: { id: 'COMPLETED' }, operation: { location: t.location } } : { status: { id: 'IN_PROGRESS' }, operation: null };
  }

  /** A job as a submission starts it: INITIALIZING, then RUNNING; checkpoint ids go on from `nextId`. */
  newJob(name: string, tables: string[], userConfig: Record<string, string>, startTime: number, nextId: number): FakeJob {
    const job: FakeJob = {
      jid: randomBytes(16).toString('hex'),
      name,
      state: 'INITIALIZING',
      startTime,
      runningAt: startTime + FAKE_LATENCY.jobStartMs,
      tables: [...new Set(tables)],
      userConfig,
      nextId,
      lastPeriodic: startTime + FAKE_LATENCY.jobStartMs,
      completed: 0,
      history: [],
      triggers: new Map(),
    };
    this.jobs.set(job.jid, job);
    return job;
  }

  /** Brings a job up to `now`: start, periodic checkpoints and savepoint completions, in time order. */
  private advance(j: FakeJob, now: number): void {
    if (j.state === 'INITIALIZING' && now >= j.runningAt) j.state = 'RUNNING';
    while (j.state === 'RUNNING') {
      const periodic = j.lastPeriodic + FAKE_LATENCY.checkpointIntervalMs;
      const trigger = [...j.triggers.values()].filter((t) => !t.done).sort((a, b) => a.completeAt - b.completeAt)[0];
      const next = Math.min(periodic, trigger?.completeAt ?? Infinity);
      if (next > now) return;
      if (trigger && trigger.completeAt === next) this.complete(j, trigger);
      else {
        this.record(j, { id: j.nextId++, is_savepoint: false, trigger_timestamp: periodic - 50, latest_ack_timestamp: periodic, checkpoint_type: 'CHECKPOINT', external_path: null });
        j.lastPeriodic = periodic;
      }
    }
  }

  private complete(j: FakeJob, t: Trigger): void {
    t.done = true;
    const cp = this.record(j, {
      id: t.id,
      is_savepoint: true,
      trigger_timestamp: t.requestedAt,
      latest_ack_timestamp: t.completeAt,
      checkpoint_type: t.stop ? 'SYNC_SAVEPOINT' : 'SAVEPOINT',
      external_path: t.location,
    });
    j.latestSavepoint = cp;
    this.savepointIds.set(t.location, t.id);
    for (const table of j.tables) this.tables.get(table)?.add(`savepoint-${t.id}`);
    if (t.stop) {
      j.state = 'FINISHED';
      j.endTime = t.completeAt;
    }
  }

  private record(j: FakeJob, c: Omit<Checkpoint, 'status'>): Checkpoint {
    const cp: Checkpoint = { ...c, status: 'COMPLETED' };
    j.completed++;
    j.history.push(cp);
    if (j.history.length > HISTORY) j.history.shift();
    return cp;
  }
}
