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
    rollupOptions: {
      input: pages,
      output: {
        // Named shared chunks (Rollup would name each after its first module): cached across pages and releases.
        manualChunks(id) {
          if (/node_modules\/(react|react-dom|scheduler)\//.test(id)) return 'react';
          if (/node_modules\/(i18next|react-i18next)\//.test(id) || id.includes('/web/src/i18n/locales/')) return 'i18n';
          if (/node_modules\/(mediasoup-client|socket\.io-client|engine\.io-client)\//.test(id)) return 'media';
          return undefined;
        },
      },
    },
  },
});
