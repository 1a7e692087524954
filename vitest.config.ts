import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: media tests spawn mediasoup workers and Chromium; too many files at once starve each other.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
