// Which Flink cluster a job runs in. Session jobs run in the configured one (FLINK_REST_URL);
// application-mode jobs each in their own, found through the launch registry: by the job id a
// workflow carries (each version's id leads to the cluster its launcher reported), or by the job's
// name (the newest launch of that name). The Flink REST activities ask here instead of assuming
// one URL.
import { FlinkClient, type FlinkClientConfig } from '../flink/client';
import type { LaunchRecord, LaunchRegistry } from './registry';

/** A cluster and how it was found: the session cluster, or the launch of an application cluster. */
export interface Cluster {
  flink: FlinkClient;
  launch?: LaunchRecord;
}

export class Clusters {
  readonly #clients = new Map<string, FlinkClient>();

  constructor(
    readonly session: FlinkClient,
    readonly registry: LaunchRegistry,
    private readonly clientConfig: FlinkClientConfig,
  ) {}

  /** A client of the cluster at `restUrl` (one per address, kept). */
  at(restUrl: string): FlinkClient {
    if (restUrl === this.session.http.baseUrl) return this.session;
    let client = this.#clients.get(restUrl);
    if (!client) {
      client = new FlinkClient({ ...this.clientConfig, restUrl, requestTimeoutMs: Math.min(this.clientConfig.requestTimeoutMs, 10_000) });
      this.#clients.set(restUrl, client);
    }
    return client;
  }

  /** The cluster of the job with this id: its launch's, or the session cluster's for a job never launched in one. */
  async ofJob(jobId: unknown): Promise<FlinkClient> {
    if (typeof jobId !== 'string') return this.session;
    const launch = await this.registry.byJobId(jobId);
    return launch ? this.at(launch.restUrl) : this.session;
  }

  /**
   * The session cluster and, per job name, the cluster of its newest launch when it answers: where
   * a live job may run. An older launch of a name is a version that was replaced (its cluster
   * stopped or being stopped), so it is not asked.
   */
  async live(): Promise<Cluster[]> {
    const newest = new Map<string, LaunchRecord>();
    for (const launch of await this.registry.all()) if (!newest.has(launch.jobName)) newest.set(launch.jobName, launch);
    const answering = await Promise.all(
      [...newest.values()].map(async (launch) => {
        const flink = this.at(launch.restUrl);
        const up = await flink.jobsOverview().then(() => true, () => false);
        return up ? { flink, launch } : undefined;
      }),
    );
    return [{ flink: this.session }, ...answering.filter((c): c is { flink: FlinkClient; launch: LaunchRecord } => c !== undefined)];
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.close()));
  }
}
