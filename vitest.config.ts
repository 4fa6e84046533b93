import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/production needs Temporal's server on PostgreSQL: `npm run test:production` runs it.
    exclude: [...configDefaults.exclude, 'test/production/**'],
    // Tests share one real Flink cluster and Temporal server, so files run one at a time.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // The JSON report lets .ci/run print one plain 'N passed, N failed' line.
    reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
  },
});
