/**
 * Not a test file: `npm run typecheck` compiles it against the served `/connect.d.ts` (the
 * examples/react/connect.d.ts copy, which a test keeps equal to it). Correct usage must compile;
 * each `@ts-expect-error` line must stay an error, or tsc fails ("unused directive").
 */
/// <reference path="../../examples/react/connect.d.ts" />

export function correctUsage(): void {
  const handler = window.UcwConnect.create({
    jobTypes: ['transactions'],
    presentation: 'popup',
    getAuthHeaders: async () => ({ Authorization: 'Bearer x' }),
    onSuccess: (m) => {
      const id: string | null = m.connectionId;
      void id;
    },
    onExit: (error, m) => {
      if (error && error.type === 'request_failed') {
        const s: number = error.status;
        void s;
      }
      void m.sessionId;
    },
    onEvent: (type, m) => {
      void type;
      void m.status;
    },
  });
  handler.open();
  handler.destroy();
  const version: string = window.UcwConnect.version;
  void version;
}

export function wrongUsage(): void {
  // @ts-expect-error: not a job type
  window.UcwConnect.create({ jobTypes: ['nope'] });
  // @ts-expect-error: not a presentation
  window.UcwConnect.create({ jobTypes: ['transactions'], presentation: 'iframe' });
  // @ts-expect-error: jobTypes is required
  window.UcwConnect.create({});
  window.UcwConnect.create({
    jobTypes: 'transactions',
    // @ts-expect-error: a session_ended error has no status
    onExit: (error) => error?.type === 'session_ended' && error.status,
  });
}
