// Activities a workflow starts side by side begin in no fixed order; the order between steps is fixed.
import { expect } from 'vitest';

/** A step: one call, or a group of calls made side by side (matched in any order). */
export type CallStep = string | string[];

/** The tag-name reads of the upgrade's preflight run beside the checks of the tables and the cluster. */
export const PREFLIGHT_READS: string[] = ['listTags', 'listTags', 'describeSinkTables', 'checkFlinkCluster'];

/** `names` are `steps`, in order, each group in any order, and nothing more. */
export function expectCallSteps(names: string[], steps: CallStep[]): void {
  let at = 0;
  const seen = steps.map((step) => {
    const size = Array.isArray(step) ? step.length : 1;
    const part = names.slice(at, at + size);
    at += size;
    return Array.isArray(step) ? part.sort() : part[0];
  });
  expect([...seen, ...names.slice(at)]).toEqual(steps.map((step) => (Array.isArray(step) ? [...step].sort() : step)));
}

/**
 * The calls a refusal in preflight may have made: the tag-name reads started beside the check that
 * refused may or may not have begun by then, so they are left out.
 */
export const withoutTagReads = (names: string[]): string[] => names.filter((name) => name !== 'listTags');
