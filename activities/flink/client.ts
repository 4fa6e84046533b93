// A thin typed client for the Flink JobManager REST API: one method per endpoint we use, every
// answer parsed with its schema. Mapping HTTP statuses to failures is the activities' job.
import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { FormData } from 'undici';
import type { Config } from '../../src/config/config';
import { HttpClient } from '../http';
import {
  AsynchronousOperationResult,
  CheckpointConfigInfo,
  CheckpointingStatistics,
  ClusterOverviewWithVersion,
  DashboardConfiguration,
  JarRunResponseBody,
  JarUploadResponseBody,
  JobConfigInfo,
  JobDetailsInfo,
  JobStatusInfo,
  JobExceptionsInfoWithHistory,
  JobPlanInfo,
  MetricCollectionResponseBody,
  MultipleJobsDetails,
  SubmittedJobPlanInfo,
  TriggerResponse,
} from './schemas';

export type FlinkClientConfig = Pick<Config['flink'], 'restUrl' | 'authHeader' | 'caFile' | 'requestTimeoutMs'>;

export interface SavepointRequest {
  triggerId: string;
  formatType: 'CANONICAL' | 'NATIVE';
  targetDirectory?: string;
}

export interface JarRunRequestBody {
  entryClass?: string;
  programArgsList: string[];
  parallelism?: number;
  jobId: string;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  /** configuration for this job only (JarRunRequestBody's flinkConfiguration) */
  flinkConfiguration?: Record<string, string>;
}

const job = (jobId: string) => `/jobs/${encodeURIComponent(jobId)}`;

export class FlinkClient {
  readonly http: HttpClient;

  constructor(config: FlinkClientConfig) {
    this.http = new HttpClient({
      service: 'Flink REST',
      baseUrl: config.restUrl,
      timeoutMs: config.requestTimeoutMs,
      authHeader: config.authHeader,
      caFile: config.caFile,
      unreachableHint: 'Check FLINK_REST_URL and that the JobManager runs (locally: bash scripts/stack.sh up).',
    });
  }

  config() {
    return this.http.json('GET', '/config', DashboardConfiguration);
  }

  overview() {
    return this.http.json('GET', '/overview', ClusterOverviewWithVersion);
  }

  jobsOverview() {
    return this.http.json('GET', '/jobs/overview', MultipleJobsDetails);
  }

  jobDetails(jobId: string) {
    return this.http.json('GET', job(jobId), JobDetailsInfo);
  }

  /**
   * The job's state as the Dispatcher has it now. GET /jobs/:jobid answers from a cache of the
   * execution graph that lives for web.refresh-interval (3 s by default).
   */
  jobStatus(jobId: string) {
    return this.http.json('GET', `${job(jobId)}/status`, JobStatusInfo);
  }

  jobConfig(jobId: string) {
    return this.http.json('GET', `${job(jobId)}/config`, JobConfigInfo);
  }

  /** The job graph of a submitted job: one node per vertex, its `description` naming the operators chained in it. */
  jobPlan(jobId: string) {
    return this.http.json('GET', `${job(jobId)}/plan`, SubmittedJobPlanInfo);
  }

  checkpoints(jobId: string) {
    return this.http.json('GET', `${job(jobId)}/checkpoints`, CheckpointingStatistics);
  }

  checkpointConfig(jobId: string) {
    return this.http.json('GET', `${job(jobId)}/checkpoints/config`, CheckpointConfigInfo);
  }

  exceptions(jobId: string, maxExceptions: number) {
    return this.http.json('GET', `${job(jobId)}/exceptions`, JobExceptionsInfoWithHistory, {
      query: { maxExceptions },
    });
  }

  jobMetrics(jobId: string, names: string[]) {
    return this.http.json('GET', `${job(jobId)}/metrics`, MetricCollectionResponseBody, { query: { get: names.join(',') } });
  }

  async cancel(jobId: string): Promise<void> {
    await this.http.text('PATCH', job(jobId), { query: { mode: 'cancel' } });
  }

  stopWithSavepoint(jobId: string, request: SavepointRequest & { drain: boolean }) {
    return this.http.json('POST', `${job(jobId)}/stop`, TriggerResponse, {
      body: {
        drain: request.drain,
        formatType: request.formatType,
        triggerId: request.triggerId,
        ...(request.targetDirectory ? { targetDirectory: request.targetDirectory } : {}),
      },
    });
  }

  triggerSavepoint(jobId: string, request: SavepointRequest) {
    return this.http.json('POST', `${job(jobId)}/savepoints`, TriggerResponse, {
      body: {
        'cancel-job': false,
        formatType: request.formatType,
        triggerId: request.triggerId,
        ...(request.targetDirectory ? { 'target-directory': request.targetDirectory } : {}),
      },
    });
  }

  savepointStatus(jobId: string, triggerId: string) {
    return this.http.json('GET', `${job(jobId)}/savepoints/${encodeURIComponent(triggerId)}`, AsynchronousOperationResult);
  }

  disposeSavepoint(savepointPath: string) {
    return this.http.json('POST', '/savepoint-disposal', TriggerResponse, { body: { 'savepoint-path': savepointPath } });
  }

  disposalStatus(triggerId: string) {
    return this.http.json('GET', `/savepoint-disposal/${encodeURIComponent(triggerId)}`, AsynchronousOperationResult);
  }

  /** Uploads a jar from the worker's disk; returns the jar id used by runJar. */
  async uploadJar(jarFile: string): Promise<string> {
    const form = new FormData();
    // Flink's upload handler accepts only jars sent as application/x-java-archive.
    const blob = await openAsBlob(jarFile, { type: 'application/x-java-archive' });
    form.set('jarfile', blob, path.basename(jarFile));
    const res = await this.http.json('POST', '/jars/upload', JarUploadResponseBody, { form });
    // Flink answers with the stored path; the jar id is its file name.
    return path.basename(res.filename);
  }

  runJar(jarId: string, body: JarRunRequestBody) {
    return this.http.json('POST', `/jars/${encodeURIComponent(jarId)}/run`, JarRunResponseBody, { body });
  }

  /** The job graph the jar's entry class builds, without running it (the class must exist and its main must build a job). */
  jarPlan(jarId: string, body: Pick<JarRunRequestBody, 'entryClass' | 'programArgsList' | 'parallelism'>) {
    return this.http.json('POST', `/jars/${encodeURIComponent(jarId)}/plan`, JobPlanInfo, { body });
  }

  async deleteJar(jarId: string): Promise<void> {
    await this.http.text('DELETE', `/jars/${encodeURIComponent(jarId)}`);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
