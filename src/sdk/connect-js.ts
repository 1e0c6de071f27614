import { jsonForScript } from '../lib/html.js';
import { CONNECT_JS } from '../generated/browser-bundles.js';

/**
 * `GET /connect.js`: the bundle built from src/browser/connect/ (`npm run build:browser`) inside
 * a wrapper that hands it the BFF's public URL, its default `bffUrl`, as one JSON value. Built
 * once at start-up: the URL is configuration, not per request.
 */
export function renderConnectJs(publicUrl: string): string {
  return `/*! UcwConnect: drop-in script for the ucw-bff connect flow. Types: /connect.d.ts */
(function () {
"use strict";
var DEFAULT_BFF_URL = ${jsonForScript(publicUrl)};
${CONNECT_JS}})();
`;
}
