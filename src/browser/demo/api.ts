/**
 * The demo page's API client: `openapi-fetch` over the types generated from the BFF's own
 * OpenAPI document (examples/client/api-types.ts), on the page's own origin and cookie.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from '../../../examples/client/api-types.js';

export type Connection = components['schemas']['Connection'];

/** A refused or failed call: the problem's detail (or title) as the message, and the HTTP status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const bff = createClient<paths>({
  // The directory this page is served from: works when the BFF sits under a path prefix.
  baseUrl: new URL('.', window.location.href).href.replace(/\/+$/, ''),
  credentials: 'same-origin',
  cache: 'no-store',
  headers: { Accept: 'application/json' },
});

function problemText(error: unknown): string | null {
  if (error === null || typeof error !== 'object') return null;
  const { detail, title } = error as { detail?: unknown; title?: unknown };
  if (typeof detail === 'string' && detail) return detail;
  return typeof title === 'string' && title ? title : null;
}

/** The answer's data, or an ApiError for anything but a 2xx. */
export async function answer<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(problemText(error) ?? String(response.status), response.status);
  return data as T;
}
