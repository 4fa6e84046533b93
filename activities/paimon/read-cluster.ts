// Where the Paimon reads' batch jobs run, and the check that one can get a task slot there. A read
// of a system table ($tags, $snapshots, $consumers, $options) is a Flink batch job; on a cluster
// whose every slot a streaming job holds it waits for a slot that never comes (Flink gives up only
// after slot.request.timeout, 5 minutes). Procedures (CALL sys.create_tag, delete_tag,
// rollback_to), DDL and SHOW run inside the SQL gateway and need no slot.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Config } from '../../src/config/config';
import { FailureType, fatal } from '../errors';
import { HttpClient } from '../http';

/** The job name of every Paimon read (pipeline.name): the slot check tells our reads from others' jobs by it. */
export const READ_JOB_NAME = 'flink-paimon-ops paimon read';

/**
 * Session properties that send a session's jobs to the reads cluster instead of the gateway's
 * default one. Flink 1.20's gateway builds each statement's executor from its own configuration
 * plus the session's; the remote executor's RestClusterClient finds the JobManager at
 * rest.address:rest.port (HighAvailabilityServicesUtils.getWebMonitorAddress) unless the
 * gateway's configuration turns high availability on, in which case the leader is looked up instead.
 */
export function readClusterProperties(readsRestUrl: string | undefined): Record<string, string> {
  if (readsRestUrl === undefined) return {};
  const url = new URL(readsRestUrl);
  const https = url.protocol === 'https:';
  return {
    'execution.target': 'remote',
    'rest.address': url.hostname.replace(/^\[|\]$/g, ''),
    'rest.port': url.port || (https ? '443' : '80'),
    ...(https ? { 'security.ssl.rest.enabled': 'true' } : {}),
  };
}

const Overview = z.object({
  taskmanagers: z.number(),
  'slots-total': z.number(),
  'slots-available': z.number(),
});

const JobsOverview = z.object({
  jobs: z.array(z.object({ jid: z.string(), name: z.string(), state: z.string() })),
});

const ENDED = new Set(['FINISHED', 'CANCELED', 'FAILED']);

/** Asks the cluster the reads run on whether a read can get a slot before one is submitted. */
export class ReadSlots {
  readonly #http: HttpClient;
  readonly #separate: boolean;

  constructor(config: Pick<Config, 'flink' | 'paimon'>) {
    this.#separate = config.paimon.readsRestUrl !== undefined;
    this.#http = new HttpClient({
      service: this.#separate ? 'the Flink cluster for Paimon reads' : 'Flink REST',
      baseUrl: config.paimon.readsRestUrl ?? config.flink.restUrl,
      timeoutMs: config.flink.requestTimeoutMs,
      authHeader: config.flink.authHeader,
      caFile: config.flink.caFile,
      unreachableHint: this.#separate
        ? 'Check PAIMON_READS_FLINK_REST_URL and that the reads cluster runs (locally: bash scripts/stack.sh up).'
        : 'Check FLINK_REST_URL and that the JobManager runs.',
    });
  }

  /**
   * Passes when a slot is free, or will be in a moment: one of our own reads holds one (it ends in
   * a second or so and the next read takes its slot), or no job that has not ended is left (Flink
   * frees an ended job's slots a moment after the job is listed as ended: a read right after
   * another one finished meets that). Otherwise, once the cluster still shows the same after
   * `settleMs`, every slot belongs to jobs that may never end, so the read would wait for nothing:
   * a non-retryable failure that says so.
   */
  async require(attempted: string, signal?: AbortSignal, settleMs = 3_000): Promise<void> {
    const deadline = Date.now() + settleMs;
    for (;;) {
      const overview = await this.#http.json('GET', '/overview', Overview, { signal });
      if (overview['slots-available'] > 0) return;
      const { jobs } = await this.#http.json('GET', '/jobs/overview', JobsOverview, { signal });
      const live = jobs.filter((j) => !ENDED.has(j.state));
      if (live.length === 0 || live.some((j) => j.name === READ_JOB_NAME)) return;
      if (Date.now() >= deadline) throw this.#noSlot(attempted, overview, live.length);
      await sleep(500, undefined, { signal });
    }
  }

  #noSlot(attempted: string, overview: z.infer<typeof Overview>, running: number) {
    return fatal(
      FailureType.NoFreeTaskSlot,
      `${attempted}: no free task slot on the Flink cluster at ${this.#http.baseUrl} ` +
        `(${overview['slots-total']} slots on ${overview.taskmanagers} TaskManager(s), all held by ${running} running job(s)). ` +
        'A Paimon read is a Flink batch job and would wait for a slot until Flink gives up. ' +
        (this.#separate
          ? 'Give the reads cluster more slots or TaskManagers, or stop what runs on it.'
          : 'Run the reads on a small cluster of their own (PAIMON_READS_FLINK_REST_URL; locally bash scripts/stack.sh up starts one), ' +
            'or free a slot on this one.') +
        ' Nothing was changed by this step.',
    );
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
