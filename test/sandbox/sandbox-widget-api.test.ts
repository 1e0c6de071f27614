import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSandboxUcwApp, startSandboxUcw, type SandboxUcwOptions } from '../../src/sandbox/sandbox-ucw.js';

const BEARER = 'm2m-good-token';
const AUTH = { Authorization: `Bearer ${BEARER}` };
const COOKIE = { Cookie: `authorizationToken=${BEARER}` };
const ORIGIN = 'http://localhost:3000';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

type App = Parameters<typeof request>[0];

/** Loads a v2 widget and returns the page's session id, as the page itself would read it. */
async function openV2Widget(app: App, body: Record<string, unknown> = {}): Promise<string> {
  const minted = await request(app)
    .post('/widgetUrl')
    .set(AUTH)
    .send({ jobTypes: ['transactions'], userId: 'user-1', targetOrigin: ORIGIN, ...body });
  const url = new URL((minted.body as { widgetUrl: string }).widgetUrl);
  const page = await request(app).get(`${url.pathname}${url.search}`);
  const match = /data-session="([^"]+)"/.exec(page.text);
  expect(match).not.toBeNull();
  return match![1]!;
}

function build(overrides: Partial<SandboxUcwOptions> = {}) {
  return createSandboxUcwApp({ version: 2, isValidBearer: (t) => t === BEARER, ...overrides });
}

describe('the widget page internal API', () => {
  it('when the page asks for its session without the cookie (a cross-site iframe), then 401 "Unauthorized"', async () => {
    const { app } = build();
    const session = await openV2Widget(app);
    const res = await request(app).get(`/api/sim/sessions/${session}`);
    expect(res.status).toBe(401);
    expect(res.text).toBe('Unauthorized');
  });

  it('when the page asks for its session with the cookie, then it gets the targetOrigin, the loaded event and the institutions', async () => {
    const { app } = build();
    const session = await openV2Widget(app);
    const res = await request(app).get(`/api/sim/sessions/${session}`).set(COOKIE);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      targetOrigin: ORIGIN,
      loadedEvent: { type: 'connect/loaded', metadata: { initial_step: 'search' } },
      preselected: null,
      refresh: false,
      institutions: [
        { id: 'sandbox-bank', name: 'Sandbox Bank', selectedEvent: { type: 'connect/selectedInstitution', metadata: { name: 'Sandbox Bank', guid: 'sandbox-bank', url: 'https://sandbox-bank.example', code: 'sandbox-bank' } } },
        { id: 'mx-bank', name: 'MX Bank', selectedEvent: { type: 'connect/selectedInstitution', metadata: { name: 'MX Bank', guid: 'mx-bank', url: 'https://mx-bank.example', code: 'mx-bank' } } },
        { id: 'failure-bank', name: 'Failure Bank', selectedEvent: { type: 'connect/selectedInstitution', metadata: { name: 'Failure Bank', guid: 'failure-bank', url: 'https://failure-bank.example', code: 'failure-bank' } } },
      ],
    });
  });

  it('when the user connects to Sandbox Bank (generation 2), then a CONNECTED member exists and memberStatusUpdate + memberConnected are returned', async () => {
    const { app, state } = build();
    const session = await openV2Widget(app);
    const res = await request(app).post(`/api/sim/sessions/${session}/connect`).set(COOKIE).send({ institutionId: 'sandbox-bank' });
    expect(res.status).toBe(200);
    const [member] = state.members.list();
    expect(member).toEqual({
      connectionId: expect.stringMatching(new RegExp(`^MBR-${UUID}$`)),
      aggregatorUserId: expect.stringMatching(new RegExp(`^USR-${UUID}$`)),
      userId: 'user-1',
      aggregator: 'sophtron',
      institutionId: 'sandbox-bank',
      status: 6,
      deleted: false,
    });
    expect(res.body).toEqual({
      outcome: 'connected',
      message: 'Connected to Sandbox Bank',
      events: [
        {
          type: 'connect/memberStatusUpdate',
          metadata: { ucpInstitutionId: 'sandbox-bank', aggregator: 'sophtron', connectionId: member!.connectionId, aggregatorUserId: member!.aggregatorUserId, connectionStatus: 6 },
        },
        {
          type: 'connect/memberConnected',
          metadata: { ucpInstitutionId: 'sandbox-bank', aggregator: 'sophtron', connectionId: member!.connectionId, aggregatorUserId: member!.aggregatorUserId },
        },
      ],
    });
  });

  it('when the event generation is 1, then the events use member_guid, user_guid and connection_status', async () => {
    const { app, state } = build({ eventGeneration: 1 });
    const session = await openV2Widget(app);
    const res = await request(app).post(`/api/sim/sessions/${session}/connect`).set(COOKIE).send({ institutionId: 'mx-bank' });
    const [member] = state.members.list();
    expect((res.body as { events: unknown[] }).events).toEqual([
      {
        type: 'connect/memberStatusUpdate',
        metadata: { ucpInstitutionId: 'mx-bank', aggregator: 'mx', member_guid: member!.connectionId, user_guid: member!.aggregatorUserId, connection_status: 6 },
      },
      {
        type: 'connect/memberConnected',
        metadata: { ucpInstitutionId: 'mx-bank', aggregator: 'mx', member_guid: member!.connectionId, user_guid: member!.aggregatorUserId },
      },
    ]);
  });

  it('when the user connects to Failure Bank, then the member is DENIED and memberStatusUpdate + memberError are returned', async () => {
    const { app, state } = build();
    const session = await openV2Widget(app);
    const res = await request(app).post(`/api/sim/sessions/${session}/connect`).set(COOKIE).send({ institutionId: 'failure-bank' });
    const [member] = state.members.list();
    expect(member?.status).toBe(2);
    expect(res.body).toEqual({
      outcome: 'denied',
      message: 'Failure Bank did not accept the credentials',
      events: [
        {
          type: 'connect/memberStatusUpdate',
          metadata: { ucpInstitutionId: 'failure-bank', aggregator: 'sophtron', connectionId: member!.connectionId, aggregatorUserId: member!.aggregatorUserId, connectionStatus: 2 },
        },
        { type: 'connect/memberError', metadata: { member: { guid: member!.connectionId, connection_status: 2 } } },
      ],
    });
  });

  it('when the password is "wrong" at any bank, then memberError leaves the form live, and the next try connects the same member', async () => {
    const { app, state } = build();
    const session = await openV2Widget(app);
    const connect = (password: string) => request(app).post(`/api/sim/sessions/${session}/connect`).set(COOKIE).send({ institutionId: 'mx-bank', password });
    const refused = await connect('wrong');
    const [member] = state.members.list();
    expect(member?.status).toBe(2);
    const shared = { ucpInstitutionId: 'mx-bank', aggregator: 'mx', connectionId: member!.connectionId, aggregatorUserId: member!.aggregatorUserId };
    expect(refused.body).toEqual({
      outcome: 'retry',
      message: 'Incorrect Credentials. Please correct them below to continue.',
      events: [
        { type: 'connect/memberStatusUpdate', metadata: { ...shared, connectionStatus: 0 } },
        { type: 'connect/memberError', metadata: { member: { guid: member!.connectionId, connection_status: 2 } } },
      ],
    });
    const retried = await connect('right-this-time');
    expect(state.members.list()).toHaveLength(1);
    expect(state.members.list()[0]!.status).toBe(6);
    expect(retried.body).toEqual({
      outcome: 'connected',
      message: 'Connected to MX Bank',
      events: [
        { type: 'connect/memberStatusUpdate', metadata: { ...shared, connectionStatus: 6 } },
        { type: 'connect/memberConnected', metadata: shared },
      ],
    });
  });

  it('when Failure Bank gets another password after a refusal, then it still refuses', async () => {
    const { app } = build();
    const session = await openV2Widget(app);
    for (const password of ['wrong', 'anything']) {
      await request(app).post(`/api/sim/sessions/${session}/connect`).set(COOKIE).send({ institutionId: 'failure-bank', password });
    }
    const res = await request(app).post(`/api/sim/sessions/${session}/connect`).set(COOKIE).send({ institutionId: 'failure-bank', password: 'other' });
    expect(res.body.outcome).toBe('denied');
  });

  it('when the widget was opened as a refresh, then the same member is reconnected and no new member is created', async () => {
    const { app, state } = build();
    const existing = state.members.create({ userId: 'user-1', aggregator: 'mx', institutionId: 'mx-bank' });
    const session = await openV2Widget(app, { connectionId: existing.connectionId, aggregator: 'mx', institutionId: 'mx-bank' });
    const view = await request(app).get(`/api/sim/sessions/${session}`).set(COOKIE);
    expect(view.body).toMatchObject({
      refresh: true,
      preselected: { id: 'mx-bank', name: 'MX Bank' },
      loadedEvent: { type: 'connect/loaded', metadata: { initial_step: 'enterCreds' } },
    });
    const res = await request(app).post(`/api/sim/sessions/${session}/connect`).set(COOKIE).send({});
    expect(state.members.list()).toHaveLength(1);
    expect((res.body as { events: unknown[] }).events[1]).toEqual({
      type: 'connect/memberConnected',
      metadata: { ucpInstitutionId: 'mx-bank', aggregator: 'mx', connectionId: existing.connectionId, aggregatorUserId: existing.aggregatorUserId },
    });
  });

  it("when a refresh names another user's connection, then connecting answers 404 and nothing changes", async () => {
    const { app, state } = build();
    const theirs = state.members.create({ userId: 'user-2', aggregator: 'mx', institutionId: 'mx-bank' });
    const session = await openV2Widget(app, { connectionId: theirs.connectionId, aggregator: 'mx', institutionId: 'mx-bank' });
    const res = await request(app).post(`/api/sim/sessions/${session}/connect`).set(COOKIE).send({});
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'Connection not found' });
    expect(state.members.list()).toEqual([theirs]);
  });

  it('when a v1 widget has no targetOrigin, then the page posts to "/" (same origin only)', async () => {
    const { app } = createSandboxUcwApp({ version: 1 });
    const page = await request(app).get('/widget').query({ jobTypes: 'transactions', userId: 'u' });
    const session = /data-session="([^"]+)"/.exec(page.text)![1]!;
    const res = await request(app).get(`/api/sim/sessions/${session}`);
    expect((res.body as { targetOrigin: string }).targetOrigin).toBe('/');
  });
});

describe('starting the simulator', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('when NODE_ENV=production, then it refuses to start', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    await expect(startSandboxUcw({ version: 2 })).rejects.toThrow(/refuses to run with NODE_ENV=production/);
    expect(() => createSandboxUcwApp({ version: 1 })).toThrow(/production/);
  });

  it('when started on port 0, then it listens on 127.0.0.1 and records requests received over the socket', async () => {
    const ucw = await startSandboxUcw({ version: 2, port: 0 });
    try {
      expect(ucw.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${ucw.url}/widgetUrl`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jobTypes: ['transactions'], userId: 'u', targetOrigin: ORIGIN }),
      });
      expect(res.status).toBe(200);
      const { widgetUrl } = (await res.json()) as { widgetUrl: string };
      expect(widgetUrl.startsWith(`${ucw.url}/widget?token=`)).toBe(true);
      expect(ucw.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /widgetUrl']);
      expect(ucw.members.create({ userId: 'u' })).toMatchObject({ userId: 'u', aggregator: 'sophtron', institutionId: 'sandbox-bank', status: 6 });
    } finally {
      await ucw.close();
    }
  });

  it('when a browser sends a CORS preflight, then it is answered 204 with Access-Control-Allow-Origin: *', async () => {
    const { app } = build();
    const res = await request(app)
      .options('/widgetUrl')
      .set({ Origin: 'http://elsewhere.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toBe('content-type,authorization');
  });
});
