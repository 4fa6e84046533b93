// Parallelism and state asked of an upgrade (issue 16, items 2 and 5), refused before the stop on
// the real stack: a vertex the running job does not have, a parallelism the vertex holding Paimon's
// committer cannot take, a new script that sets its own 'parallelism.default' (it would rename the
// operators and leave their state unclaimed), a parallelism that is no number. Each refusal names
// the input; our job keeps RUNNING under the same id and no table, tag or savepoint changed.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidUpgradeInputError, startUpgrade } from '../../src/client/start-upgrade';
import type { Deployment } from '../../src/domain/model';
import type { UpgradeInput } from '../../workflows/input';
import { demoScript, deployableDir } from '../support/demo-pipeline';
import { flinkGet } from '../support/stack';
import { startBadInputStack, type BadInputStack } from './fixture';
import { refusedAfterReadsOnly } from './refusal';
import { expectNothingChanged, snapshotOfTheWorld, type World } from './world';

let stack: BadInputStack;
const world = (): Promise<World> => snapshotOfTheWorld(stack);

const upgradeOf = (changes: Partial<UpgradeInput['options']> = {}, newVersion?: Deployment): UpgradeInput => ({
  job: { jobName: stack.jobName },
  newVersion: newVersion ?? stack.v2,
  oldVersion: stack.v1,
  sinkTables: stack.sinks,
  options: { healthTimeout: '60s', tagTimeout: '60s', ...changes },
});

async function refusedUpgrade(input: UpgradeInput) {
  const { refusal, ran } = await refusedAfterReadsOnly(await startUpgrade(stack.client, input, { taskQueue: stack.taskQueue }));
  expect(ran).toContain('planUpgradeShape');
  return refusal;
}

/** The running job's vertices, as GET /jobs/:id/plan names them. */
async function vertices(): Promise<{ id: string; description: string }[]> {
  return (await flinkGet<{ plan: { nodes: { id: string; description: string }[] } }>(`/jobs/${stack.jobId}/plan`)).plan.nodes;
}

const cliUpgrade = (...flags: string[]) => [
  'upgrade',
  '--job-name', stack.jobName,
  '--table', stack.sinks.join(','),
  '--new-version', 'v2', '--new-sql-file', (stack.v2 as { scriptFile: string }).scriptFile,
  '--old-version', 'v1', '--old-sql-file', (stack.v1 as { scriptFile: string }).scriptFile,
  ...flags,
  '--wait',
];

describe('parallelism and state asked of an upgrade, on the real stack: refused before the stop, nothing changed', () => {
  beforeAll(async () => {
    stack = await startBadInputStack('parallel');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('a vertex the running job does not have: refused naming it and the vertices it has (client and CLI)', async () => {
    const before = await world();
    const ghost = 'f'.repeat(32);
    const refusal = await refusedUpgrade(upgradeOf({ vertexParallelism: { [ghost]: 2 } }));
    expect(refusal.type).toBe('DeploymentCheckFailed');
    expect(refusal.message).toContain(`vertexParallelism: ${ghost} is not a vertex of the running job; its vertices are`);
    for (const v of await vertices()) expect(refusal.message).toContain(v.id);
    expect(refusal.message).toContain('Nothing was changed.');

    const cli = await stack.cli(...cliUpgrade('--vertex-parallelism', `${ghost}=2`));
    expect(cli.code).toBe(1);
    expect(cli.err).toContain(`${ghost} is not a vertex of the running job`);
    expectNothingChanged(before, await world());
  });

  it("the vertex that chains Paimon's committer to its writer, asked for 2: refused naming the committer", async () => {
    const before = await world();
    const committer = (await vertices()).find((v) => v.description.includes('Global Committer'))!;
    expect(committer, 'the demo job chains a Global Committer').toBeDefined();
    const refusal = await refusedUpgrade(upgradeOf({ vertexParallelism: { [committer.id]: 2 } }));
    expect(refusal.type).toBe('DeploymentCheckFailed');
    expect(refusal.message).toContain(`vertex ${committer.id} (Writer : seq_`);
    expect(refusal.message).toContain("cannot run at 2: it runs Paimon's Global Committer, which runs at parallelism 1");
    expectNothingChanged(before, await world());
  });

  it("a new script that sets 'parallelism.default': refused before the stop, pointing at the parallelism option", async () => {
    const before = await world();
    const file = path.join(deployableDir('badinput-parallel-'), 'v2-parallel.sql');
    writeFileSync(
      file,
      demoScript('pipeline-v2.sql', stack.database, stack.jobName).replace("SET 'pipeline.name'", "SET 'parallelism.default' = '2';\nSET 'pipeline.name'"),
    );
    const refusal = await refusedUpgrade(upgradeOf({}, { kind: 'sql', version: 'v2', scriptFile: file }));
    expect(refusal.type).toBe('DeploymentCheckFailed');
    expect(refusal.message).toContain("v2 sets 'parallelism.default' = '2' while the running job's graph was built at 1");
    expect(refusal.message).toContain('(--parallelism)');
    expectNothingChanged(before, await world());
  });

  it('a parallelism that is not a positive whole number: refused by the client and the CLI before anything starts', async () => {
    const before = await world();
    await expect(startUpgrade(stack.client, upgradeOf({ parallelism: 0 }), { taskQueue: stack.taskQueue })).rejects.toThrow(InvalidUpgradeInputError);
    const cli = await stack.cli(...cliUpgrade('--parallelism', 'two'));
    expect(cli.code).not.toBe(0);
    expect(cli.err).toContain('options.parallelism');
    const pair = await stack.cli(...cliUpgrade('--vertex-parallelism', 'source=2'));
    expect(pair.code).toBe(2);
    expect(pair.err).toContain("--vertex-parallelism takes VERTEX_ID=N (a vertex id from GET /jobs/<id>/plan); got 'source=2'");
    expectNothingChanged(before, await world());
  });
});
