// The parallelism a job runs at: the parallelism its graph was built at, and each vertex's now
// (an upgrade may have set vertices apart from the graph's through
// pipeline.jobvertex-parallelism-overrides, activities/flink/parallelism.ts).
import { z } from 'zod';
import { JobIdSchema } from '../../src/domain/model';
import type { DeployParallelism } from '../contract';
import type { FlinkClient } from './client';
import { parseInput } from './inputs';

/** GET /jobs/:jobid, the fields of JobVertexDetailsInfo the plans need. */
export const JobVertices = z.object({
  vertices: z.array(z.object({ id: z.string(), name: z.string(), parallelism: z.number(), maxParallelism: z.number().optional() })),
});
export type JobVertex = z.infer<typeof JobVertices>['vertices'][number];
/** GET /jobs/:jobid/config: the parallelism the job graph was built at. */
const JobConfig = z.object({ 'execution-config': z.object({ 'job-parallelism': z.number() }).partial().optional() });

export interface JobShape {
  vertices: JobVertex[];
  graphParallelism: number;
}

export async function readJobShape(flink: FlinkClient, jobId: string): Promise<JobShape> {
  const job = `/jobs/${jobId}`;
  const [{ vertices }, jobConfig] = await Promise.all([flink.http.json('GET', job, JobVertices), flink.http.json('GET', `${job}/config`, JobConfig)]);
  const graphParallelism = jobConfig['execution-config']?.['job-parallelism'] ?? Math.max(...vertices.map((v) => v.parallelism));
  return { vertices, graphParallelism };
}

export const shapeAsDeployed = ({ vertices, graphParallelism }: JobShape): DeployParallelism => ({
  graphParallelism,
  overrides: Object.fromEntries(vertices.map((v) => [v.id, v.parallelism])),
});

const JobParallelismInput = z.object({ jobId: JobIdSchema });

export async function jobParallelism(flink: FlinkClient, input: unknown): Promise<DeployParallelism> {
  const { jobId } = parseInput('jobParallelism', JobParallelismInput, input);
  return shapeAsDeployed(await readJobShape(flink, jobId));
}
