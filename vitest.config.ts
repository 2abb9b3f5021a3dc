import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // fast-check's seed: FC_SEED if given, fixed under CI, else fresh (see test/setup.ts).
    setupFiles: ['test/setup.ts'],
    // Worker-pool tests spawn threads of their own; forks keep each test file isolated.
    pool: 'forks',
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
  },
});
