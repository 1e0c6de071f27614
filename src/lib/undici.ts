/**
 * The three parts of undici the product uses (a keep-alive `Agent`, `request`, the global
 * dispatcher), loaded from undici's own modules instead of its index: the index loads every
 * feature undici has (fetch, WebSocket, EventSource, mock agents, cache stores, interceptors) at
 * start-up, for code the product never runs. Types still come from `undici`.
 */
import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent.js';
import dispatchRequest from 'undici/lib/api/api-request.js';
import { getGlobalDispatcher } from 'undici/lib/global.js';

export { Agent, getGlobalDispatcher };
export type { Dispatcher };

export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher };

/** `undici.request(url, options)` for an absolute URL, through `options.dispatcher`. */
export function request(url: string | URL, options: RequestOptions): Promise<Dispatcher.ResponseData> {
  const { origin, pathname, search } = typeof url === 'string' ? new URL(url) : url;
  const { dispatcher, ...rest } = options;
  return dispatchRequest.call(dispatcher, { ...rest, origin, path: pathname + search });
}
