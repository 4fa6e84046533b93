// The layers of docs/architecture.md, checked on every import: the domain at the bottom,
// activities (observe and act) and workflows (decide) above it, client helpers above those, the
// entry points on top. Imports only run downwards; workflows take activities as types only, and
// the two never import each other otherwise.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/config/repo-root';

type Layer = 'domain' | 'activities' | 'workflows' | 'client' | 'entry';
const RANK: Record<Layer, number> = { domain: 0, activities: 1, workflows: 1, client: 2, entry: 3 };

// src/ holds one folder per layer, so the tree shows the layers.
const SRC_LAYERS: Record<string, Layer> = { domain: 'domain', config: 'domain', client: 'client', cli: 'entry', worker: 'entry' };

export function layerOf(file: string): Layer | undefined {
  if (file.startsWith('workflows/')) return 'workflows';
  if (file.startsWith('activities/')) return 'activities';
  const [top, folder] = file.split('/');
  return top === 'src' && folder !== undefined ? SRC_LAYERS[folder] : undefined;
}

function sources(dir: string): string[] {
  return readdirSync(path.join(repoRoot(), dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(repoRoot(), rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Every relative import of `file`: the file it names and whether it is `import type`. */
function importsOf(file: string): { target: string; typeOnly: boolean }[] {
  const text = readFileSync(path.join(repoRoot(), file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gm)].map((m) => {
    let target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[2]!));
    if (!existsSync(path.join(repoRoot(), `${target}.ts`)) && existsSync(path.join(repoRoot(), target, 'index.ts'))) target = `${target}/index`;
    return { target: `${target}.ts`, typeOnly: m[1] !== undefined };
  });
}

/** What is wrong with an import from `from` to `to`, or undefined. */
export function wrongImport(from: string, to: string, typeOnly: boolean): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (!a || !b) return undefined;
  if (RANK[b] > RANK[a]) return `${from} (${a}) imports ${to} (${b}), a layer above it`;
  if (a === 'workflows' && b === 'activities' && !typeOnly) return `${from} imports ${to} as a value: workflows take activities as types only`;
  if (a === 'activities' && b === 'workflows') return `${from} imports ${to}: activities do not know the workflows`;
  return undefined;
}

describe('layers', () => {
  const files = ['src', 'workflows', 'activities'].flatMap(sources);

  it('every file under src/ sits in the folder of its layer (domain, config, client, cli, worker)', () => {
    const outside = files.filter((file) => file.startsWith('src/') && layerOf(file) === undefined);
    expect(outside).toEqual([]);
    expect(layerOf('src/domain.ts')).toBeUndefined();
  });

  it('every import runs downwards (domain <- activities, workflows <- client helpers <- entry points)', () => {
    const wrong = files.flatMap((file) => importsOf(file).flatMap(({ target, typeOnly }) => wrongImport(file, target, typeOnly) ?? []));
    expect(wrong).toEqual([]);
    // The check sees the imports it judges: workflows do import activities' types.
    expect(importsOf('workflows/start-version.ts')).toContainEqual({ target: 'activities/contract.ts', typeOnly: true });
  });

  it('would catch an import that runs upwards or a workflow importing an activity module', () => {
    expect(wrongImport('src/domain/model.ts', 'workflows/messages.ts', false)).toContain('a layer above it');
    expect(wrongImport('src/config/config.ts', 'src/client/temporal-connection.ts', true)).toContain('a layer above it');
    expect(wrongImport('src/client/operation.ts', 'src/worker/worker.ts', false)).toContain('a layer above it');
    expect(wrongImport('activities/flink/jobs.ts', 'src/client/job-name.ts', false)).toContain('a layer above it');
    expect(wrongImport('workflows/restore.ts', 'activities/errors.ts', false)).toContain('types only');
    expect(wrongImport('workflows/restore.ts', 'activities/contract.ts', true)).toBeUndefined();
    expect(wrongImport('activities/paimon/tables.ts', 'workflows/restore-plan.ts', true)).toContain('do not know the workflows');
    expect(wrongImport('src/cli/commands/status.ts', 'workflows/restore-messages.ts', true)).toBeUndefined();
  });
});

describe('one concern per file', () => {
  // STYLE.md: a file longer than about 300 lines is usually two concerns. The limit leaves a little
  // room over the guide; a file that passes it is split by concern, not squeezed under it.
  const MAX_LINES = 330;

  it(`no file under src/, workflows/ or activities/ is longer than ${MAX_LINES} lines`, () => {
    const long = ['src', 'workflows', 'activities']
      .flatMap(sources)
      .map((file) => ({ file, lines: readFileSync(path.join(repoRoot(), file), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
