import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = import.meta.dirname;
// Every web/<page>.html is an entry; the server maps each to its route (server/http/web-pages.ts).
const pages = Object.fromEntries(readdirSync(root).filter((f) => f.endsWith('.html')).map((f) => [f.slice(0, -5), resolve(root, f)]));

// One HTML entry per page; the server serves dist/web with a route per entry. Assets go under /app-assets
// so they never collide with the demo pages' static files at / or the SDK bundle at /sdk.
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: resolve(root, '..', 'dist', 'web'),
    emptyOutDir: true,
    assetsDir: 'app-assets',
    // No inline module preload polyfill: the CSP allows only the page's own script files.
    modulePreload: { polyfill: false },
    // The pages bundle the SDK, mediasoup-client included (~570 kB, 150 kB gzipped); splitting comes with more pages.
    chunkSizeWarningLimit: 800,
    rollupOptions: { input: pages },
  },
});
