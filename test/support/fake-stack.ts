// An in-memory Flink cluster and Paimon catalog behind the activity contract, for workflow tests:
// tests drive the workflow through it, then check the calls it saw and the state it ends in.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { restorePointRecordOf } from '../../activities/catalog/activities';
import type { Activities, DeployParallelism, TableConsumer, TableJob } from '../../activities/contract';
import { FailureType } from '../../src/domain/failure-types';
import { savepointIdOfTag, savepointTagNames, tagFor, type JobRef, type JobState, type JobSummary, type Savepoint, type TableRef, type TagInfo } from '../../src/domain/model';
import type { RestorePoint } from '../../src/domain/restore-points';
import { testApproverActivities } from './approvals';

export type ActivityName = keyof Activities;

export interface Call {
  name: ActivityName;
  input: any;
}

export interface FakeJob {
  jobId: string;
  name: string;
  version: string;
  state: JobState;
  startTime: number;
  /** the savepoint it was started from */
  restoredFrom?: string;
  /** the parallelism it was deployed at (one vertex, FAKE_VERTEX, at 1 when not given) */
  parallelism?: DeployParallelism;
}

/** The commit user of the snapshots the fake's own jobs commit. */
export const FAKE_WRITER_USER = 'fake-writer-commit-user';

/** The fake job graph's one vertex. */
export const FAKE_VERTEX = 'a'.repeat(32);

export interface FakeTable {
  exists: boolean;
  autoTag: boolean;
  /** latest snapshot id */
  snapshot: number;
  tags: Map<string, number>;
  /** branches (the restore's undo), by name: the snapshot they were made from */
  branches: Map<string, number>;
}

const TERMINAL: JobState[] = ['CANCELED', 'FAILED', 'FINISHED'];
const hex32 = (n: number) => n.toString(16).padStart(32, '0');

export interface FakeStackOptions {
  jobName: string;
  /** the version running at the start */
  version?: string;
  jobState?: JobState;
  tables?: TableRef[];
}

export class FakeStack {
  readonly calls: Call[] = [];
  readonly jobs = new Map<string, FakeJob>();
  readonly tables = new Map<TableRef, FakeTable>();
  /** Savepoints Flink took, by trigger id: a retry with the same trigger id must not take another. */
  readonly savepointsTaken = new Map<string, number>();
  readonly rollbacks: { table: TableRef; tag: string; snapshot: number }[] = [];
  readonly initialJobId: string;

  // Knobs a test turns.
  /** versions whose jobs never become healthy */
  readonly unhealthyVersions = new Set<string>();
  /** tables on which a savepoint's tag never appears */
  readonly tagNeverAppearsOn = new Set<TableRef>();
  /** tables whose rollbackToTag fails for good (SqlFailed), changing nothing */
  readonly failRollbackOn = new Set<TableRef>();
  /** tables whose tableState, after their rollback, counts one record more than their tag (a rollback that did not land) */
  readonly offAfterRollback = new Set<TableRef>();
  /** tables whose rollbackToTag with readAfter rolls back but answers without `after` (its read after failed) */
  readonly readAfterRollbackFails = new Set<TableRef>();
  /** activities whose first call does its work, then fails as if the answer was lost */
  readonly failOnceAfterWork = new Set<ActivityName>();
  /** versions checkDeployments refuses (DeploymentCheckFailed), with the problem it names */
  readonly badDeployments = new Map<string, string>();
  /** new versions planUpgradeShape refuses (DeploymentCheckFailed: parallelism or state), with the problem it names */
  readonly badShapes = new Map<string, string>();
  /** versions whose jobs have no recent completed checkpoint: requireRecentCheckpoint refuses them with this cause */
  readonly noRecentCheckpoint = new Map<string, string>();
  /** live jobs of other names that write or read the tables (findTableJobs) */
  readonly otherJobs: TableJob[] = [];
  /**
   * The tables the fake's own live jobs write, as their plan in Flink shows (findTableJobs), and the
   * only ones Paimon tags their savepoints on; undefined: every table. A job writing none of the
   * tables asked about is left out of findTableJobs, as Flink's activity leaves it out.
   */
  ownJobWrites: TableRef[] | undefined;
  /** `$snapshots` commit users by snapshot id (commitsByUser); any other snapshot is the writer's, FAKE_WRITER_USER */
  readonly commitUsers = new Map<TableRef, Map<number, string>>();
  /** stopWithSavepoint fails for good (SavepointFailed) with this cause, leaving the job in `state` (Flink's restart strategy, or FAILED) */
  stopFails: { state: JobState; cause: string } | undefined;
  /** jobs of which Flink lists no checkpoint or savepoint whose files are there (retainedState) */
  readonly nothingRetained = new Set<string>();
  /** rows of the tables' `$consumers` (listConsumers) */
  readonly consumers: TableConsumer[] = [];
  /** recordRestorePoint fails for good with this message (RestorePointConflict) */
  refuseRecords: string | undefined;
  /** markRestorePointsLost fails for good with this message */
  refuseMarkLost: string | undefined;
  /** activities that wait for a gate (see `hold`) */
  private readonly gates = new Map<ActivityName, { opened: Promise<void>; open: () => void }>();
  private readonly savepoints = new Map<string, Savepoint>();
  private readonly deploys = new Map<string, string>();
  private nextJob = 0xa1;
  private nextCheckpoint = 40;

  /** The id the next savepoint (or health gate checkpoint) gets. */
  get nextSavepointId(): number {
    return this.nextCheckpoint + 1;
  }

  constructor(readonly options: FakeStackOptions) {
    this.initialJobId = this.startJob(options.version ?? 'v1').jobId;
    this.job(this.initialJobId).state = options.jobState ?? 'RUNNING';
    for (const table of options.tables ?? ['demo.orders', 'demo.customers']) {
      this.tables.set(table, { exists: true, autoTag: true, snapshot: 3, tags: new Map(), branches: new Map() });
    }
  }

  job(jobId: string): FakeJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`fake: no job ${jobId}`);
    return job;
  }

  table(table: TableRef): FakeTable {
    const t = this.tables.get(table);
    if (!t) throw new Error(`fake: no table ${table}`);
    return t;
  }

  /** A table's tags as listTags gives them: records = 10 per snapshot, as tableState counts them. */
  tagsOf(table: TableRef): TagInfo[] {
    return [...this.table(table).tags].map(([tagName, snapshotId]): TagInfo => ({ tagName, snapshotId, schemaId: 0, commitTime: '', recordCount: snapshotId * 10 }));
  }

  running(): FakeJob[] {
    return [...this.jobs.values()].filter((j) => j.state === 'RUNNING');
  }

  callNames(): ActivityName[] {
    return this.calls.map((c) => c.name);
  }

  callsOf(name: ActivityName): any[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input);
  }

  /** Someone deletes a savepoint's files. */
  removeSavepointFiles(path: string): void {
    for (const [key, s] of this.savepoints) if (s.path === path) this.savepoints.delete(key);
  }

  /**
   * An intermediate savepoint of the running job (its tag on every table at once, as if the next
   * checkpoint had committed), then `commits` more commits: a restore point with newer rows.
   */
  seedRestorePoint(commits = 2): Savepoint {
    const [writer] = this.writers();
    if (!writer) throw new Error('fake: no running job to take a savepoint of');
    const savepoint = this.takeSavepoint(writer.jobId, `seed-${this.savepoints.size}`, false);
    this.commit(commits);
    return savepoint;
  }

  /** The job was started afresh (no savepoint): its checkpoint ids count from 1 again, the next one being `next`. */
  checkpointIdsStartAgainAt(next: number): void {
    this.nextCheckpoint = next - 1;
  }

  /** The running job commits `n` times: one snapshot more on every table each time. */
  commit(n = 1): void {
    for (let i = 0; i < n; i++) for (const t of this.tables.values()) t.snapshot++;
  }

  /** Make `name` wait until the returned function is called. */
  hold(name: ActivityName): () => void {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gates.set(name, { opened, open });
    return () => {
      this.gates.delete(name);
      open();
    };
  }

  activities(): Activities {
    return {
      // The real activity over the test approvers' file: not a call the tests look at.
      ...testApproverActivities(),
      checkFlinkCluster: async () => {
        await this.enter('checkFlinkCluster', {});
        return { flinkVersion: '1.20.3', taskManagers: 1, slotsAvailable: 4 };
      },
      resolveJob: async (input) => {
        await this.enter('resolveJob', input);
        return this.summary(this.resolve(input.job));
      },
      getJob: async (input) => {
        await this.enter('getJob', input);
        return this.summary(this.job(input.jobId));
      },
      cancelJob: async (input) => {
        await this.enter('cancelJob', input);
        this.job(input.jobId).state = 'CANCELED';
      },
      stopWithSavepoint: async (input) => {
        await this.enter('stopWithSavepoint', input);
        if (this.stopFails) {
          this.job(input.jobId).state = this.stopFails.state;
          throw ApplicationFailure.create({
            type: FailureType.SavepointFailed,
            message: `stop-with-savepoint of job ${input.jobId} (trigger ${input.triggerId}) failed: ${this.stopFails.cause}. Flink shows the job ${this.stopFails.state}.`,
            nonRetryable: true,
          });
        }
        const savepoint = this.savepoints.get(input.triggerId) ?? this.takeSavepoint(input.jobId, input.triggerId, true);
        this.afterWork('stopWithSavepoint');
        return savepoint;
      },
      triggerSavepoint: async (input) => {
        await this.enter('triggerSavepoint', input);
        return this.savepoints.get(input.triggerId) ?? this.takeSavepoint(input.jobId, input.triggerId, false);
      },
      inspectSavepoint: async (input) => {
        await this.enter('inspectSavepoint', input);
        const found = [...this.savepoints.values()].find((s) => s.path === input.path);
        return { savepointId: found?.savepointId ?? 0, exists: found !== undefined };
      },
      disposeSavepoint: async (input) => {
        await this.enter('disposeSavepoint', input);
      },
      deployJob: async (input) => {
        await this.enter('deployJob', input);
        let jobId = this.deploys.get(input.deployToken);
        if (jobId === undefined) {
          jobId = this.startJob(input.deployment.version, input.savepointPath, input.parallelism).jobId;
          this.deploys.set(input.deployToken, jobId);
        }
        this.afterWork('deployJob');
        return { jobId };
      },
      prepareVersion: async (input) => {
        await this.enter('prepareVersion', input);
        this.afterWork('prepareVersion');
        return { prepared: input.target?.kind === 'application' };
      },
      releaseVersion: async (input) => {
        await this.enter('releaseVersion', input);
      },
      awaitHealthy: async (input) => {
        await this.enter('awaitHealthy', input);
        const job = this.job(input.jobId);
        if (job.state !== 'RUNNING' || this.unhealthyVersions.has(job.version)) {
          return { healthy: false, jobId: job.jobId, state: 'RESTARTING', reason: 'no checkpoint completed since the deploy' };
        }
        this.afterWork('awaitHealthy');
        return { healthy: true, jobId: job.jobId, state: 'RUNNING', checkpointId: ++this.nextCheckpoint };
      },
      checkDeployments: async (input) => {
        await this.enter('checkDeployments', input);
        const problems = input.deployments.filter((d) => this.badDeployments.has(d.version)).map((d) => `${d.version}: ${this.badDeployments.get(d.version)}`);
        if (problems.length > 0) {
          throw ApplicationFailure.create({
            type: FailureType.DeploymentCheckFailed,
            message: `checked before anything is stopped: ${problems.join('; ')}. Nothing was changed.`,
            nonRetryable: true,
          });
        }
        return { checked: input.deployments.map((d) => ({ version: d.version, kind: d.kind, tookMs: 1 })) };
      },
      planUpgradeShape: async (input) => {
        await this.enter('planUpgradeShape', input);
        const problem = this.badShapes.get(input.newVersion.version);
        if (problem !== undefined) {
          throw ApplicationFailure.create({
            type: FailureType.DeploymentCheckFailed,
            message: `checked before anything is stopped: ${problem}. Nothing was changed.`,
            nonRetryable: true,
          });
        }
        const vertex = FAKE_VERTEX;
        const to = input.vertexParallelism?.[vertex] ?? input.parallelism;
        return {
          running: { graphParallelism: 1, overrides: { [vertex]: 1 } },
          ...(to !== undefined ? { parallelism: { graphParallelism: 1, overrides: { [vertex]: to }, vertices: [{ id: vertex, name: 'fake vertex', from: 1, to }] } } : {}),
          stateCheck: { checked: false, text: 'the fake stack checks no state' },
        };
      },
      jobParallelism: async (input) => {
        await this.enter('jobParallelism', input);
        return this.job(input.jobId).parallelism ?? { graphParallelism: 1, overrides: { [FAKE_VERTEX]: 1 } };
      },
      requireRecentCheckpoint: async (input) => {
        await this.enter('requireRecentCheckpoint', input);
        const job = this.job(input.jobId);
        const cause = this.noRecentCheckpoint.get(job.version);
        if (cause !== undefined) {
          throw ApplicationFailure.create({
            type: FailureType.NoRecentCheckpoint,
            message: `job '${job.name}' (${job.jobId}) has no recent completed checkpoint: ${cause}`,
            nonRetryable: true,
          });
        }
        return { jobId: job.jobId, checkpointId: this.nextCheckpoint, completedAt: job.startTime };
      },
      findTableJobs: async (input) => {
        await this.enter('findTableJobs', input);
        const asked = new Set(input.tables);
        const own = [...this.jobs.values()]
          .filter((j) => j.name === this.options.jobName && !TERMINAL.includes(j.state))
          .map((j): TableJob => ({ jobId: j.jobId, name: j.name, state: j.state, writes: input.tables.filter((t) => this.ownJobWritesTable(t)), reads: [] }))
          .filter((j) => j.writes.length > 0);
        const others = this.otherJobs
          .map((j) => ({ ...j, writes: j.writes.filter((t) => asked.has(t)), reads: j.reads.filter((r) => asked.has(r.table)) }))
          .filter((j) => j.writes.length > 0 || j.reads.length > 0);
        return [...own, ...others];
      },
      retainedState: async (input) => {
        await this.enter('retainedState', input);
        const job = this.job(input.jobId);
        const retained = this.nothingRetained.has(job.jobId)
          ? null
          : { kind: 'checkpoint' as const, id: this.nextCheckpoint, path: `file:///checkpoints/${job.jobId}/chk-${this.nextCheckpoint}`, completedAt: job.startTime };
        return { jobId: job.jobId, state: job.state, retained };
      },
      commitsByUser: async (input) => {
        await this.enter('commitsByUser', input);
        return input.tables.map(({ table, after }) => {
          const t = this.table(table);
          const userOf = (id: number) => this.commitUsers.get(table)?.get(id) ?? FAKE_WRITER_USER;
          const users = new Map<string, { commitUser: string; snapshots: number; compactions: number; recordsAdded: number; firstSnapshotId: number; lastSnapshotId: number }>();
          // Snapshot ids run 1..latest (no expiry), 10 records each, as tableState counts them.
          for (let id = after + 1; id <= t.snapshot; id++) {
            const u = users.get(userOf(id)) ?? { commitUser: userOf(id), snapshots: 0, compactions: 0, recordsAdded: 0, firstSnapshotId: id, lastSnapshotId: id };
            u.snapshots++;
            u.recordsAdded += 10;
            u.lastSnapshotId = id;
            users.set(u.commitUser, u);
          }
          return { table, after, afterCommittedBy: after >= 1 ? userOf(after) : null, upToSnapshotId: Math.max(after, t.snapshot), users: [...users.values()] };
        });
      },
      listConsumers: async (input) => {
        await this.enter('listConsumers', input);
        return this.consumers.filter((c) => input.tables.includes(c.table));
      },
      describeSinkTables: async (input) => {
        await this.enter('describeSinkTables', input);
        return input.tables.map((table) => {
          const t = this.tables.get(table);
          const info = { table, exists: t?.exists ?? false, autoTagOnSavepoint: t?.autoTag ?? false };
          if (!input.withSavepointTags || !info.exists) return info;
          return { ...info, savepointTags: savepointTagNames(this.tagsOf(table)) };
        });
      },
      listTags: async (input) => {
        await this.enter('listTags', input);
        return this.tagsOf(input.table);
      },
      listTagsOfTables: async (input) => {
        await this.enter('listTagsOfTables', input);
        return Object.fromEntries(input.tables.map((table) => [table, this.tagsOf(table)]));
      },
      awaitTag: async (input) => {
        await this.enter('awaitTag', input);
        const missing = input.tables.filter((table) => !this.table(table).tags.has(input.tag));
        if (!input.withTags && input.newerThanTag === undefined) return { missing };
        const tags = Object.fromEntries(input.tables.map((table) => [table, this.tagsOf(table)]));
        if (input.newerThanTag === undefined) return { missing, tags };
        // Snapshot ids run 1..latest here (no expiry): newer than the tag's is latest - tagged.
        const newerThan = input.newerThanTag;
        const newer = Object.fromEntries(
          input.tables.flatMap((table) => {
            const t = this.table(table);
            const tagged = t.tags.get(newerThan);
            return tagged === undefined ? [] : [[table, { latestSnapshotId: t.snapshot, newerSnapshots: Math.max(0, t.snapshot - tagged) }]];
          }),
        );
        return { missing, tags, newer };
      },
      createTag: async (input) => {
        await this.enter('createTag', input);
        const t = this.table(input.table);
        t.tags.set(input.tag, input.snapshotId ?? t.snapshot);
      },
      deleteTag: async (input) => {
        await this.enter('deleteTag', input);
        this.table(input.table).tags.delete(input.tag);
      },
      rollbackToTag: async (input) => {
        await this.enter('rollbackToTag', input);
        const t = this.table(input.table);
        const snapshot = t.tags.get(input.tag);
        if (snapshot === undefined) {
          throw ApplicationFailure.create({ type: FailureType.TagMissing, message: `no tag ${input.tag}`, nonRetryable: true });
        }
        if (this.writers().length > 0) {
          throw new Error(`fake: rolled back ${input.table} while job ${this.writers()[0].jobId} still writes to it`);
        }
        if (this.failRollbackOn.has(input.table)) {
          throw ApplicationFailure.create({ type: FailureType.SqlFailed, message: `fake: rollback_to on ${input.table} failed`, nonRetryable: true });
        }
        // As Paimon 1.3 does: newer snapshots and every tag on one go; branches stay.
        const previous = t.snapshot;
        const tagsDeleted = [...t.tags].filter(([, tagged]) => tagged > snapshot).map(([tag]) => tag).sort();
        for (const tag of tagsDeleted) t.tags.delete(tag);
        t.snapshot = snapshot;
        this.rollbacks.push({ table: input.table, tag: input.tag, snapshot });
        // Snapshot ids run 1..latest here (no expiry), as tableState counts them.
        if (!input.count) return undefined;
        // With `before`, as the activity: the caller's figures when it counted the snapshot rolled back from.
        const asCounted = input.before && input.before.latestSnapshotId === previous;
        const done = asCounted
          ? { previousSnapshotId: previous, snapshotsDeleted: input.before!.snapshotsNewer, tagsDeleted: input.before!.tagsNewer }
          : { previousSnapshotId: previous, snapshotsDeleted: Math.max(0, previous - snapshot), tagsDeleted };
        // As the activity does when its read after the rollback fails: the figures without `after`.
        return input.readAfter && !this.readAfterRollbackFails.has(input.table) ? { ...done, after: this.stateOf(input.table) } : done;
      },
      tableState: async (input) => {
        await this.enter('tableState', input);
        return this.stateOf(input.table, input.newerThan);
      },
      createBranch: async (input) => {
        await this.enter('createBranch', input);
        const t = this.table(input.table);
        const snapshot = t.tags.get(input.tag);
        if (snapshot === undefined) {
          throw ApplicationFailure.create({ type: FailureType.TagMissing, message: `no tag ${input.tag}`, nonRetryable: true });
        }
        if (!t.branches.has(input.branch)) t.branches.set(input.branch, snapshot);
      },
      // The catalog's listing, from the tags and the savepoints taken; nothing else of it is faked.
      listRestorePoints: async (input) => {
        await this.enter('listRestorePoints', input);
        return this.restorePoints(input.tables ?? [...this.tables.keys()], input.jobName);
      },
      recordRestorePoint: async (input) => {
        await this.enter('recordRestorePoint', input);
        if (this.refuseRecords) {
          throw ApplicationFailure.create({ type: 'RestorePointConflict', message: `fake: ${this.refuseRecords}`, nonRetryable: true });
        }
        return restorePointRecordOf(input);
      },
      // Every deleted savepoint tag whose savepoint the fake took counts as a recorded point.
      markRestorePointsLost: async (input) => {
        await this.enter('markRestorePointsLost', input);
        if (this.refuseMarkLost) throw ApplicationFailure.create({ type: 'FakeCatalogDown', message: `fake: ${this.refuseMarkLost}`, nonRetryable: true });
        const ids = new Set(input.tagsDeleted.map((d) => savepointIdOfTag(d.tag)));
        const lost = [...this.savepoints.values()].filter((s) => ids.has(s.savepointId)).map(({ savepointId, path }) => ({ savepointId, path }));
        return { lost: lost.sort((a, b) => a.savepointId - b.savepointId) };
      },
      recordUpgradeOutcome: async (input) => {
        await this.enter('recordUpgradeOutcome', input);
        return undefined;
      },
      restorePointsInUse: async (input) => {
        await this.enter('restorePointsInUse', input);
        return [];
      },
      describeOperation: (input) => this.notFaked('describeOperation', input),
      pinRestorePoint: (input) => this.notFaked('pinRestorePoint', input),
      unpinRestorePoint: (input) => this.notFaked('unpinRestorePoint', input),
      markRestorePointExpiring: (input) => this.notFaked('markRestorePointExpiring', input),
      deleteRestorePointRecord: (input) => this.notFaked('deleteRestorePointRecord', input),
      deleteSavepointDirectory: (input) => this.notFaked('deleteSavepointDirectory', input),
    };
  }

  private restorePoints(tables: TableRef[], jobName: string): RestorePoint[] {
    const ids = new Set(tables.flatMap((table) => [...this.table(table).tags.keys()].map(savepointIdOfTag)));
    const points: RestorePoint[] = [];
    for (const savepointId of ids) {
      if (savepointId === undefined) continue;
      const tag = tagFor(savepointId);
      const savepoint = [...this.savepoints.values()].find((s) => s.savepointId === savepointId);
      const presence = Object.fromEntries(tables.map((t) => [t, this.table(t).tags.has(tag) ? 'present' : 'missing'] as const));
      const problems = tables.filter((t) => presence[t] === 'missing').map((t) => `tag ${tag} missing on ${t}`);
      if (!savepoint) problems.push(`no savepoint with id ${savepointId}`);
      points.push({
        savepointId,
        tag,
        path: savepoint?.path ?? null,
        jobName,
        jobId: savepoint?.jobId ?? null,
        deploymentVersion: null,
        label: null,
        createdAt: null,
        pinned: false,
        recorded: false,
        tables: presence,
        savepointPresent: savepoint !== undefined,
        expiring: false,
        restorable: problems.length === 0,
        problems,
      });
    }
    return points.sort((a, b) => b.savepointId - a.savepointId);
  }

  private async notFaked(name: ActivityName, input: unknown): Promise<never> {
    await this.enter(name, input);
    throw ApplicationFailure.create({ type: 'NotFaked', message: `fake: ${name} is not faked`, nonRetryable: true });
  }

  private ownJobWritesTable(table: TableRef): boolean {
    return this.ownJobWrites === undefined || this.ownJobWrites.includes(table);
  }

  private writers(): FakeJob[] {
    return this.running().filter((j) => j.name === this.options.jobName);
  }

  /** A table's state as tableState reads it (and rollbackToTag's `after`). */
  private stateOf(table: TableRef, newerThan?: number) {
    const t = this.table(table);
    // Snapshot ids run 1..latest here (no expiry); records as tagsOf counts them.
    const snapshotsNewer = newerThan === undefined ? 0 : Math.max(0, t.snapshot - newerThan);
    const off = this.offAfterRollback.has(table) && this.rollbacks.some((r) => r.table === table) ? 1 : 0;
    return { table, latestSnapshotId: t.snapshot, schemaId: 0, totalRecordCount: t.snapshot * 10 + off, snapshotsNewer };
  }

  private async enter(name: ActivityName, input: unknown): Promise<void> {
    this.calls.push({ name, input });
    const gate = this.gates.get(name);
    if (gate) await Promise.race([gate.opened, Context.current().cancelled]);
  }

  private afterWork(name: ActivityName): void {
    if (this.failOnceAfterWork.delete(name)) {
      throw ApplicationFailure.retryable(`fake: connection reset after ${name} did its work`, 'FakeConnectionReset');
    }
  }

  private startJob(version: string, restoredFrom?: string, parallelism?: DeployParallelism): FakeJob {
    const job: FakeJob = {
      jobId: hex32(this.nextJob++),
      name: this.options.jobName,
      version,
      state: 'RUNNING',
      startTime: Date.now(),
      restoredFrom,
      ...(parallelism ? { parallelism } : {}),
    };
    this.jobs.set(job.jobId, job);
    // A running version commits: one snapshot on every sink table.
    for (const t of this.tables.values()) t.snapshot++;
    return job;
  }

  private resolve(ref: JobRef): FakeJob {
    if ('jobId' in ref) {
      const job = this.jobs.get(ref.jobId);
      if (!job) throw ApplicationFailure.create({ type: FailureType.JobNotFound, message: `no job ${ref.jobId}`, nonRetryable: true });
      return job;
    }
    const named = [...this.jobs.values()].filter((j) => j.name === ref.jobName);
    const live = named.filter((j) => !TERMINAL.includes(j.state));
    if (live.length > 1) {
      throw ApplicationFailure.create({ type: FailureType.JobNameAmbiguous, message: ref.jobName, nonRetryable: true });
    }
    const job = live[0] ?? named[named.length - 1];
    if (!job) throw ApplicationFailure.create({ type: FailureType.JobNotFound, message: `no job ${ref.jobName}`, nonRetryable: true });
    return job;
  }

  private summary(job: FakeJob): JobSummary {
    return { jobId: job.jobId, name: job.name, state: job.state, startTime: job.startTime };
  }

  /** Flink takes the savepoint; with auto-tag, Paimon tags the final checkpoint's snapshot. */
  private takeSavepoint(jobId: string, triggerId: string, stop: boolean): Savepoint {
    const job = this.job(jobId);
    if (job.state !== 'RUNNING') {
      throw ApplicationFailure.create({ type: FailureType.JobNotRunning, message: `${jobId} is ${job.state}`, nonRetryable: true });
    }
    const savepointId = ++this.nextCheckpoint;
    const savepoint: Savepoint = {
      savepointId,
      path: `file:///savepoints/savepoint-${jobId.slice(-6)}-${savepointId}`,
      jobId,
      stopped: stop,
      triggeredAt: Date.now(),
    };
    if (stop) job.state = 'FINISHED';
    for (const [table, t] of this.tables) {
      t.snapshot++;
      // Paimon's auto-tag leaves a tag whose name is taken alone (an earlier run's savepoint-<id>).
      const name = `savepoint-${savepointId}`;
      if (t.autoTag && this.ownJobWritesTable(table) && !this.tagNeverAppearsOn.has(table) && !t.tags.has(name)) t.tags.set(name, t.snapshot);
    }
    this.savepoints.set(triggerId, savepoint);
    this.savepointsTaken.set(triggerId, (this.savepointsTaken.get(triggerId) ?? 0) + 1);
    return savepoint;
  }
}
