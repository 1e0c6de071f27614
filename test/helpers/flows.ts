import request from 'supertest';
import type { Express } from 'express';
import { userToken } from './jwt.js';

export const bearer = async (userId: string) => `Bearer ${await userToken(userId)}`;

/** POST /connect-url as `userId`; returns the response. */
export async function createConnectUrl(app: Express, userId: string, body: Record<string, unknown>) {
  return request(app).post('/connect-url').set('Authorization', await bearer(userId)).send(body);
}

/** The capability query string of a host page URL (`exp=…&sig=…`). */
export const capabilityOf = (url: string) => new URL(url).search.slice(1);

/** Relays one widget event into a session through its host-page capability. */
export function relay(app: Express, hostUrl: string, event: { type: string; metadata?: Record<string, unknown> }) {
  const u = new URL(hostUrl);
  return request(app).post(`${u.pathname}/events${u.search}`).send(event);
}

/** A v1-shaped memberConnected as the real widget posts it. */
export const v1Connected = (member: string, extra: Record<string, unknown> = {}) => ({
  type: 'connect/memberConnected',
  metadata: { aggregator: 'sophtron', member_guid: member, user_guid: 'USR-1', ucpInstitutionId: 'inst-1', ...extra },
});

/** A v2-shaped memberConnected. */
export const v2Connected = (connectionId: string, extra: Record<string, unknown> = {}) => ({
  type: 'connect/memberConnected',
  metadata: { aggregator: 'mx', connectionId, aggregatorUserId: 'USR-2', ucpInstitutionId: 'inst-2', ...extra },
});
