// The parallelism rules of an upgrade (activities/flink/parallelism.ts) on vertices as Flink 1.20.3
// shows them for the demo pipeline at parallelism 1: its source chain, a writer with Paimon's
// committer chained to it, and a writer whose committer has a vertex of its own (max parallelism 1).
import { describe, expect, it } from 'vitest';
import { defaultParallelismSetBy, overridesOption, planParallelism, type RunningVertex } from '../../../activities/flink/parallelism';

const SOURCE = 'a'.repeat(32);
const CHAINED = 'b'.repeat(32);
const WRITER = 'c'.repeat(32);
const COMMITTER = 'd'.repeat(32);
const vertices: RunningVertex[] = [
  { id: SOURCE, name: 'Source: par_sequence[1] -> Calc[2]', parallelism: 1, maxParallelism: 128 },
  { id: CHAINED, name: 'Writer : par_seq_a -> Global Committer : par_seq_a -> end: Writer', parallelism: 1, maxParallelism: 128 },
  { id: WRITER, name: 'Writer : par_seq_b', parallelism: 1, maxParallelism: 128 },
  { id: COMMITTER, name: 'Global Committer : par_seq_b -> end: Writer', parallelism: 1, maxParallelism: 1 },
];

describe('planParallelism', () => {
  it('job-wide: every vertex that can goes to N; the chained committer and the max-parallelism-1 vertex stay, saying why', () => {
    const plan = planParallelism(vertices, { parallelism: 2 });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.overrides).toEqual({ [SOURCE]: 2, [CHAINED]: 1, [WRITER]: 2, [COMMITTER]: 1 });
    expect(plan.vertices.find((v) => v.id === CHAINED)?.kept).toMatch(/Paimon's Global Committer, which runs at parallelism 1/);
    expect(plan.vertices.find((v) => v.id === COMMITTER)?.kept).toBe('its max parallelism is 1');
    expect(plan.vertices.find((v) => v.id === SOURCE)).toEqual({ id: SOURCE, name: vertices[0]!.name, from: 1, to: 2 });
  });

  it('per vertex wins over job-wide, and back to 1 is always allowed', () => {
    const plan = planParallelism(
      vertices.map((v) => ({ ...v, parallelism: v.id === COMMITTER || v.id === CHAINED ? 1 : 3 })),
      { parallelism: 1, vertexParallelism: { [WRITER]: 4 } },
    );
    expect(plan.ok && plan.overrides).toEqual({ [SOURCE]: 1, [CHAINED]: 1, [WRITER]: 4, [COMMITTER]: 1 });
  });

  it('refuses an unknown vertex (naming the known ones) and a vertex that cannot take the parallelism', () => {
    const plan = planParallelism(vertices, { vertexParallelism: { ['e'.repeat(32)]: 2, [CHAINED]: 2, [COMMITTER]: 3 } });
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.problems).toHaveLength(3);
    expect(plan.problems[0]).toContain(`${'e'.repeat(32)} is not a vertex of the running job; its vertices are ${SOURCE} (Source: par_sequence[1] -> Calc[2])`);
    expect(plan.problems[1]).toContain(`vertex ${CHAINED} (Writer : par_seq_a -> Global Committer : par_seq_a -> end: Writer) cannot run at 2`);
    expect(plan.problems[2]).toContain(`vertex ${COMMITTER} (Global Committer : par_seq_b -> end: Writer) cannot run at 3`);
  });

  it('without a request keeps every vertex as it runs', () => {
    const plan = planParallelism(vertices, {});
    expect(plan.ok && Object.values(plan.overrides)).toEqual([1, 1, 1, 1]);
  });
});

describe('script and option text', () => {
  it("reads the last SET 'parallelism.default' of a script", () => {
    expect(defaultParallelismSetBy(["SET 'pipeline.name' = 'x'", "SET 'parallelism.default' = '2'", "set 'parallelism.default'='4'", 'INSERT INTO t SELECT 1'])).toBe(4);
    expect(defaultParallelismSetBy(["SET 'pipeline.name' = 'x'", 'INSERT INTO t SELECT 1'])).toBeUndefined();
  });

  it('writes the overrides as Flink parses pipeline.jobvertex-parallelism-overrides', () => {
    expect(overridesOption({ [SOURCE]: 2, [WRITER]: 1 })).toBe(`${SOURCE}:2,${WRITER}:1`);
  });
});
