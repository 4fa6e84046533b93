// The example inputs README.md gives for the Temporal UI parse with the schemas the workflows use,
// so a copied example never fails on a field the code no longer has.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/config/repo-root';
import { RetentionInputSchema } from '../src/domain/retention-input';
import { TakeSavepointInputSchema } from '../src/domain/savepoint-input';
import { describeIssues, parseUpgradeInput } from '../workflows/input';
import { parseRestoreInput } from '../workflows/restore-input';

const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
const examples = [...readme.matchAll(/<!-- example-input: (\w+) -->\s*```json\n([\s\S]*?)```/g)].map((m) => ({
  workflow: m[1]!,
  input: JSON.parse(m[2]!) as unknown,
}));

const problems: Record<string, (input: unknown) => string[]> = {
  upgradeWorkflow: (input) => {
    const parsed = parseUpgradeInput(input);
    return parsed.ok ? [] : parsed.problems;
  },
  restoreWorkflow: (input) => {
    const parsed = parseRestoreInput(input);
    return parsed.ok ? [] : parsed.problems;
  },
  takeSavepointWorkflow: (input) => {
    const parsed = TakeSavepointInputSchema.safeParse(input);
    return parsed.success ? [] : describeIssues(parsed.error.issues);
  },
  retentionWorkflow: (input) => {
    const parsed = RetentionInputSchema.safeParse(input);
    return parsed.success ? [] : describeIssues(parsed.error.issues);
  },
};

describe('README example inputs', () => {
  it('has one for each workflow a person starts from the UI', () => {
    expect(examples.map((e) => e.workflow).sort()).toEqual(['restoreWorkflow', 'retentionWorkflow', 'takeSavepointWorkflow', 'upgradeWorkflow']);
  });

  it.each(examples)('$workflow: the example parses with the workflow\'s own schema', ({ workflow, input }) => {
    expect(problems[workflow]!(input)).toEqual([]);
  });

  it('the same check refuses a broken copy, naming the field', () => {
    const upgrade = examples.find((e) => e.workflow === 'upgradeWorkflow')!.input as Record<string, unknown>;
    expect(problems.upgradeWorkflow!({ ...upgrade, sinkTables: ['seq_a'] })).toEqual([
      "sinkTables[0]: a sink table is written 'database.table' with letters, digits, '_' or '-' only",
    ]);
  });
});
