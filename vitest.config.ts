import { defineConfig } from 'vitest/config';

// Tests run real ONNX Runtime sessions: forks keep native modules isolated, and two workers fit 2 cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
