import { defineConfig } from 'vitest/config';

// `npm run test:production` (scripts/test-production.sh): the suite that needs Temporal's server on
// PostgreSQL (STACK_TEMPORAL=server) and runs three worker processes; `npm test` leaves it out.
export default defineConfig({
  test: {
    include: ['test/production/**/*.test.ts'],
    // One real Flink cluster and one Temporal server: files run one at a time.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 300_000,
    reporters: ['default', ['json', { outputFile: '.test-results/vitest-production.json' }]],
  },
});
