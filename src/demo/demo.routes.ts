import { newNonce } from '../lib/html.js';
import { Router, type RequestHandler } from 'express';
import { renderDemoPage } from './demo.html.js';

export interface DemoRoutesOptions {
  /** The BFF's public base URL (kept for symmetry with the other page routes; the page uses relative URLs). */
  publicUrl: string;
  /** Sandbox / non-production only. When false every route falls through to the 404 handler. */
  enabled: boolean;
}

/**
 * The page's own policy, replacing the API policy helmet sets: its inline script and style run
 * by this response's nonce, `/connect.js` by 'self', and it talks to and frames only its own
 * origin (the connections API and the host page).
 */
export function demoContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' 'self'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** `GET /` and `GET /demo`: the sandbox demo page (dev login, connect, event log, connection list). */
export function demoRoutes(options: DemoRoutesOptions): Router {
  const router = Router();
  if (!options.enabled) return router;

  const page: RequestHandler = (_req, res) => {
    const nonce = newNonce();
    res.setHeader('Content-Security-Policy', demoContentSecurityPolicy(nonce));
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // The popup presentation needs window.opener between this page and the host page.
    res.removeHeader('Cross-Origin-Opener-Policy');
    res.status(200).send(renderDemoPage(nonce));
  };
  router.get('/', page);
  router.get('/demo', page);
  return router;
}
