// The worker's heap limits live in src/worker/worker.ts (why) and are passed by the two launchers of a
// production worker (and scripts/start-workers.sh, the production topology's): they must say the same numbers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/config/repo-root';
import { WORKER_MAX_OLD_SPACE_MB, WORKER_MAX_SEMI_SPACE_MB } from '../src/worker/worker';

const old = `--max-old-space-size=${WORKER_MAX_OLD_SPACE_MB}`;
const semi = `--max-semi-space-size=${WORKER_MAX_SEMI_SPACE_MB}`;
const flag = `${old} ${semi}`;
const read = (file: string) => readFileSync(path.join(repoRoot(), file), 'utf8');

describe('the worker heap limit', () => {
  it('npm start (scripts/start.sh) runs the worker with it', () => {
    expect(read('scripts/start.sh')).toMatch(new RegExp(`^exec node ${flag} dist/src/worker/start\\.js$`, 'm'));
  });

  it('npm run start:production (scripts/start-workers.sh) runs each worker with it', () => {
    expect(read('scripts/start-workers.sh')).toMatch(new RegExp(`^\\s+node ${flag} dist/src/worker/main\\.js `, 'm'));
  });

  it('the Docker image runs the worker with it', () => {
    expect(read('Dockerfile')).toContain(`CMD ["node", "${old}", "${semi}", "dist/src/worker/main.js"]`);
  });
});
