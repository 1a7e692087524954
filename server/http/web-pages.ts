// The web app's pages (web/<file>.html, built by Vite to dist/web): one route per person. The SDK's
// plain-JavaScript examples are at /demo/.
import { join } from 'node:path';
import express, { type Router } from 'express';
import { webAppDir } from '../project-paths.js';

export const WEB_PAGES: Readonly<Record<string, string>> = {
  '/': 'delegate.html',
  '/events': 'events.html',
  '/delegate': 'delegate.html',
  '/booth': 'booth.html',
  '/console': 'console.html',
  // Where the organisation's OpenID provider sends the browser back after a sign-in (PLENUM_OIDC_REDIRECT_URI).
  '/signed-in': 'signed-in.html',
};

export function webPagesRouter(): Router {
  const router = express.Router();
  for (const [route, file] of Object.entries(WEB_PAGES)) {
    // A page not built (yet) falls through to the 404 of the app.
    router.get(route, (_req, res, next) => res.sendFile(join(webAppDir, file), (error) => error && next()));
  }
  // Vite's hashed assets, under their own prefix.
  router.use('/app-assets', express.static(join(webAppDir, 'app-assets'), { fallthrough: true, immutable: true, maxAge: '1y' }));
  return router;
}
