// Electron build (electron-vite): main (ESM), preload (CommonJS, as sandboxed preloads must be) and the same
// renderer that `npm run build:renderer` builds for browser mode. Native modules stay external; electron-builder
// rebuilds them for Electron (see build/README.md).
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';

const NATIVE = ['onnxruntime-node', 'sharp', 'better-sqlite3', 'ws', 'electron', 'playwright-core', 'tsx'];

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve('src-main/electron/main.ts') }, external: NATIVE, output: { format: 'es' } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: { input: { index: resolve('src-main/electron/preload.ts') }, external: ['electron'], output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: 'src-renderer',
    plugins: [svelte()],
    build: { outDir: 'out/renderer', rollupOptions: { input: resolve('src-renderer/index.html') }, modulePreload: { polyfill: false } },
  },
});
