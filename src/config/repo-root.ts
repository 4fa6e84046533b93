import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const PACKAGE_NAME = 'flink-paimon-ops';

let cached: string | undefined;

/**
 * The repository root: the nearest folder above this file whose package.json is ours. Walking up
 * (rather than a fixed `..`) gives the same answer from `src/` under vitest and from `dist/src/`
 * after a build, and in the Docker image where the root is /app.
 */
export function repoRoot(): string {
  if (cached !== undefined) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && readPackageName(manifest) === PACKAGE_NAME) {
      cached = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`cannot find the ${PACKAGE_NAME} repository root above ${__dirname}`);
    }
  }
}

function readPackageName(manifest: string): unknown {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}
