import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userToken } from '../helpers/jwt.js';
import { testDialects } from '../helpers/databases.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

describe.each(testDialects)('on %s', (dialect) => {
  describe('the user id claim of a platform token', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ dialect, env: { AUTH_USER_CLAIM: 'uid' } });
    });
    afterAll(() => t.close());

    const me = async (uid: unknown) => request(t.app).get('/me').set('Authorization', `Bearer ${await userToken('sub-ignored', { claims: { uid } })}`);

    it.each([
      ['a newline', 'alice\nadmin'],
      ['a carriage return', 'alice\r'],
      ['a NUL', 'alice\u0000'],
      ['a tab', '\talice'],
      ['DEL', 'alice\u007f'],
      ['a C1 control (NEL)', 'alice\u0085'],
      ['a line separator', 'alice\u2028bob'],
      ['an empty string', ''],
      ['257 characters', 'u'.repeat(257)],
    ])('when it holds %s, then 401 and the request is not authenticated', async (_name, uid) => {
      const res = await me(uid);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'unauthenticated', detail: 'The access token is not valid.' });
    });

    it.each([
      ['plain', 'user-42', 'user-42'],
      ['an email', 'alice@example.com', 'alice@example.com'],
      ['non-ASCII letters and a space', 'Zoë Müller', 'Zoë Müller'],
      ['a number', 1234, '1234'],
      ['256 characters', 'u'.repeat(256), 'u'.repeat(256)],
    ])('when it is %s, then it is the user id', async (_name, uid, expected) => {
      const res = await me(uid);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: expected });
    });
  });
});
