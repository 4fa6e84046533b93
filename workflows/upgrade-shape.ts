// Before an upgrade's stop: the new version's parallelism per vertex and what it does with the
// running job's state (activities/flink/upgrade-shape.ts), noted in the status as the plan.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, DeployParallelism, UpgradeShape } from '../activities/contract';
import type { Deployment, JobSummary } from '../src/domain/model';
import { submitCall } from './activity-options';
import type { UpgradeParams } from './input';

/** Histories recorded before it neither planned parallelism nor checked state before the stop. */
export const PLAN_UPGRADE_SHAPE = 'plan-upgrade-shape-before-stop';

// A jar is uploaded for its plan: a deploy's budget.
const submit = proxyActivities<Activities>(submitCall);

/**
 * DeploymentCheckFailed (nothing stopped) when a vertex cannot take the asked parallelism, the new
 * SQL sets another default parallelism, or the new jar's graph lacks a vertex with state and
 * allowNonRestoredState is not set. Undefined for a history that predates the patch.
 */
export async function planUpgradeShapeBeforeStop(
  oldJob: JobSummary,
  newVersion: Deployment,
  options: UpgradeParams['options'],
): Promise<UpgradeShape | undefined> {
  if (!patched(PLAN_UPGRADE_SHAPE)) return undefined;
  return submit.planUpgradeShape({
    jobId: oldJob.jobId,
    newVersion,
    ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}),
    ...(options.vertexParallelism !== undefined ? { vertexParallelism: options.vertexParallelism } : {}),
    allowNonRestoredState: options.allowNonRestoredState,
  });
}

/** A job's parallelism, for a deploy, when an upgrade set vertices apart from its graph's; else nothing to set. */
export function keptParallelism(running: DeployParallelism): { parallelism?: DeployParallelism } {
  const { graphParallelism, overrides } = running;
  return Object.values(overrides).every((p) => p === graphParallelism) ? {} : { parallelism: running };
}

const runningParallelism = (shape: UpgradeShape) => keptParallelism(shape.running);

/** What deployJob takes for the new version: the asked parallelism, or the running job's. */
export function newVersionParallelism(shape: UpgradeShape | undefined): { parallelism?: DeployParallelism } {
  if (!shape) return {};
  if (!shape.parallelism) return runningParallelism(shape);
  return { parallelism: { graphParallelism: shape.parallelism.graphParallelism, overrides: shape.parallelism.overrides } };
}

/** The old version, started again from the savepoint, runs at the parallelism its job ran at. */
export const oldVersionParallelism = (shape: UpgradeShape | undefined): { parallelism?: DeployParallelism } =>
  shape ? runningParallelism(shape) : {};
