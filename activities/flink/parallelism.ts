// Parallelism of an upgrade's new version, as per-vertex overrides of a job graph built exactly as
// the running job's was. Pure: the rules, no Flink calls.
//
// Why overrides and not `parallelism.default`: a SQL job (and a jar without uids) has no operator
// uids, so Flink names each operator by StreamGraphHasherV2's hash of its place in the graph, which
// counts the chainable edges out of it; an edge is chainable only between operators of equal
// parallelism. Paimon's Global Committer always runs at 1: at job parallelism 1 it is chained to its
// writer, at 2 it is not, so the writer's and committer's hashes change and their savepoint state
// maps to nothing ("Cannot map checkpoint/savepoint state for operator ..."). Built at the old
// parallelism, the graph keeps every hash, and pipeline.jobvertex-parallelism-overrides (read by
// the scheduler from the job's configuration) sets each vertex's parallelism after the hashing.

/** A vertex of the running job, as GET /jobs/:id and /plan show it. */
export interface RunningVertex {
  id: string;
  name: string;
  parallelism: number;
  /** the vertex's max parallelism (its head operator's; -1 or absent: Flink derives it) */
  maxParallelism?: number;
}

export interface VertexParallelism {
  id: string;
  name: string;
  from: number;
  to: number;
  /** why the vertex keeps its parallelism although the job-wide one differs */
  kept?: string;
}

export interface ParallelismRequest {
  parallelism?: number;
  vertexParallelism?: Record<string, number>;
}

export type ParallelismPlan =
  | { ok: true; overrides: Record<string, number>; vertices: VertexParallelism[] }
  | { ok: false; problems: string[] };

// Operators Paimon runs at parallelism 1 (setParallelism(1).setMaxParallelism(1)); when chained
// behind a writer they do not show in the vertex's max parallelism, only in its description.
const SINGLE_PARALLELISM_OPERATORS = /Global Committer|Compact Coordinator|Compaction Coordinator/;

/** Why a vertex cannot run at `to`, if it cannot. */
function limitOf(vertex: RunningVertex, to: number): string | undefined {
  if (vertex.maxParallelism !== undefined && vertex.maxParallelism > 0 && to > vertex.maxParallelism) {
    return `its max parallelism is ${vertex.maxParallelism}`;
  }
  const single = SINGLE_PARALLELISM_OPERATORS.exec(vertex.name);
  if (to > 1 && single) {
    return (
      `it runs Paimon's ${single[0]}, which runs at parallelism 1 (chained here to the operators before it; ` +
      `a table created with 'sink.committer-operator-chaining' = 'false' keeps it in a vertex of its own)`
    );
  }
  return undefined;
}

const short = (name: string) => name.replace(/<br\/>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 120);

/**
 * Job-wide: every vertex that can runs at `parallelism`; a vertex that cannot keeps its own and
 * says why. Per vertex: the id must be one of the running job's and the parallelism one it can
 * take, or the request is refused naming it.
 */
export function planParallelism(vertices: RunningVertex[], request: ParallelismRequest): ParallelismPlan {
  const byId = new Map(vertices.map((v) => [v.id, v]));
  const problems: string[] = [];
  for (const [id, to] of Object.entries(request.vertexParallelism ?? {})) {
    const vertex = byId.get(id);
    if (!vertex) {
      const known = vertices.map((v) => `${v.id} (${short(v.name)})`).join('; ');
      problems.push(`vertexParallelism: ${id} is not a vertex of the running job; its vertices are ${known}`);
      continue;
    }
    const limit = limitOf(vertex, to);
    if (limit) problems.push(`vertexParallelism: vertex ${id} (${short(vertex.name)}) cannot run at ${to}: ${limit}`);
  }
  if (problems.length > 0) return { ok: false, problems };

  const overrides: Record<string, number> = {};
  const planned: VertexParallelism[] = [];
  for (const vertex of vertices) {
    const own = request.vertexParallelism?.[vertex.id];
    const wanted = own ?? request.parallelism ?? vertex.parallelism;
    const limit = own === undefined ? limitOf(vertex, wanted) : undefined;
    const to = limit ? vertex.parallelism : wanted;
    overrides[vertex.id] = to;
    planned.push({ id: vertex.id, name: short(vertex.name), from: vertex.parallelism, to, ...(limit ? { kept: limit } : {}) });
  }
  return { ok: true, overrides, vertices: planned };
}

/** `pipeline.jobvertex-parallelism-overrides` as Flink parses it: `id:parallelism,id:parallelism`. */
export const overridesOption = (overrides: Record<string, number>): string =>
  Object.entries(overrides)
    .map(([id, p]) => `${id}:${p}`)
    .join(',');

/** The value of a script's `SET 'parallelism.default' = 'N'`, the last one if set more than once. */
export function defaultParallelismSetBy(statements: string[]): number | undefined {
  let found: number | undefined;
  for (const statement of statements) {
    const m = /^SET\s+'parallelism\.default'\s*=\s*'(\d+)'/i.exec(statement.trim());
    if (m) found = Number(m[1]);
  }
  return found;
}
