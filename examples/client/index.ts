/**
 * A typed client for the ucw-bff API: `openapi-fetch` over the types generated from
 * `GET /openapi.json` (api-types.ts). Paths, parameters, bodies and answers are all checked by
 * TypeScript; errors come back as the service's problem documents.
 *
 *   const bff = createUcwBffClient({ baseUrl: 'https://connect.example.com', token: () => userJwt });
 *   const { data, error } = await bff.POST('/connect-url', { body: { jobTypes: ['transactions'] } });
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api-types.js';

export type { components, paths };
export type Connection = components['schemas']['Connection'];
export type Problem = components['schemas']['Problem'];
export type ProblemCode = Problem['code'];

export interface UcwBffClientOptions {
  /** The BFF's base URL (PUBLIC_URL). */
  baseUrl: string;
  /** The platform user's token, sent as `Authorization: Bearer`; omit for cookie or public calls. */
  token?: () => string | undefined | Promise<string | undefined>;
  fetch?: typeof globalThis.fetch;
}

export function createUcwBffClient(options: UcwBffClientOptions): Client<paths> {
  const client = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), ...(options.fetch ? { fetch: options.fetch } : {}) });
  if (options.token) {
    const token = options.token;
    client.use({
      async onRequest({ request }) {
        const value = await token();
        if (value) request.headers.set('Authorization', `Bearer ${value}`);
        return request;
      },
    });
  }
  return client;
}
