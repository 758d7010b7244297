import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests run real ONNX Runtime sessions: forks keep native modules isolated, and two workers fit 2 cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // compiled backward graphs go to a scratch folder, not the user's data folder (tests that test the cache set their own)
    env: { SALIENCY_GRADIENT_CACHE: process.env.SALIENCY_GRADIENT_CACHE ?? path.join(os.tmpdir(), 'saliency-test-backward-graphs') },
  },
});
