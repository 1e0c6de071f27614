import { createHash } from 'node:crypto';
import { Router, type Response } from 'express';
import { CONNECT_DTS } from '../generated/browser-bundles.js';
import { renderConnectJs } from './connect-js.js';

export interface SdkRoutesOptions {
  /** The BFF's public base URL: the script's default `bffUrl`. */
  publicUrl: string;
}

interface Asset {
  body: string;
  contentType: string;
  etag: string;
}

function asset(body: string, contentType: string): Asset {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/**
 * Public, cacheable assets loaded by other sites: the global helmet policy (CORP same-origin, an
 * API CSP) is replaced by what a cross-origin `<script>` and a types download need.
 */
function sendAsset(res: Response, ifNoneMatch: string | undefined, { body, contentType, etag }: Asset): void {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'public, max-age=300');
  res.setHeader('ETag', etag);
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.removeHeader('Access-Control-Allow-Credentials');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
    res.status(304).end();
    return;
  }
  res.status(200).send(body);
}

/**
 * `GET /connect.js` (the drop-in script, `window.UcwConnect`) and `GET /connect.d.ts` (its
 * TypeScript declarations). Both are rendered once: they depend on the public URL only.
 */
export function sdkRoutes(options: SdkRoutesOptions): Router {
  const router = Router();
  const script = asset(renderConnectJs(options.publicUrl.replace(/\/+$/, '')), 'text/javascript; charset=utf-8');
  const declarations = asset(CONNECT_DTS, 'application/typescript; charset=utf-8');

  router.get('/connect.js', (req, res) => sendAsset(res, req.get('if-none-match'), script));
  router.get('/connect.d.ts', (req, res) => sendAsset(res, req.get('if-none-match'), declarations));
  return router;
}
