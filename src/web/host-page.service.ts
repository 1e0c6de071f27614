import type { ConnectSessionService } from '../connect-sessions/connect-session.service.js';
import type { ConnectSessionRow } from '../db/schema.js';
import { isEndedAt, isPastExpiry } from '../events/state-machine.js';
import { AppError } from '../http/errors.js';
import type { Capability } from '../lib/capability.js';

export interface HostPageServiceDeps {
  sessions: ConnectSessionService;
  clock: () => Date;
}

export type HostPageService = ReturnType<typeof createHostPageService>;

/**
 * The host page's use cases. Both its page and the popup's widget URL are authenticated by the
 * session capability alone, and each counts against the session's load budget, because each
 * mints a single-use UCW token.
 */
export function createHostPageService(deps: HostPageServiceDeps) {
  function assertOpen(session: ConnectSessionRow, now: Date): void {
    if (isEndedAt(session, now)) {
      throw new AppError(
        'capability_expired',
        session.status === 'connected' || session.status === 'cancelled'
          ? 'This connection attempt has already finished. Start again from the app.'
          : 'This connect link has expired. Start again from the app.',
      );
    }
  }

  /** Direct-embed sessions never had a host page link: answered as for an unknown one. */
  function assertHostEmbed(session: Pick<ConnectSessionRow, 'embed'>): void {
    if (session.embed !== 'host') throw new AppError('not_found', 'No such connect session.');
  }

  /** The session behind a valid capability, still open; nothing is counted. */
  async function authorize(sessionId: string, capability: Capability | undefined): Promise<{ session: ConnectSessionRow; capability: Capability; now: Date }> {
    const now = deps.clock();
    const session = await deps.sessions.findByCapability(sessionId, capability, now);
    assertHostEmbed(session);
    assertOpen(session, now);
    return { session, capability: capability!, now };
  }

  return {
    authorize,

    /**
     * As `authorize`, and the load is counted against the session's budget. The link is checked
     * against the session's fixed facts (from memory when this instance knows them); the one
     * write that counts the load refuses an ended or spent session and returns the row as it is.
     */
    async openSession(sessionId: string, capability: Capability | undefined): Promise<{ session: ConnectSessionRow; capability: Capability }> {
      const now = deps.clock();
      const facts = await deps.sessions.checkCapability(sessionId, capability, now);
      assertHostEmbed(facts);
      const counted = isPastExpiry(facts, now) ? undefined : await deps.sessions.countLoad(facts.id, now);
      if (!counted) {
        // Ended (the current row says how), expired, or the budget is spent.
        const current = await deps.sessions.findById(facts.id);
        if (current) assertOpen(current, now);
        throw new AppError('rate_limited', 'This connect link has been opened too many times. Start again from the app.');
      }
      return { session: counted, capability: capability! };
    },

    /** A fresh widget URL; the UCW client refuses one outside UCW_URL's origin (the page frames only that). */
    mint: (session: ConnectSessionRow): Promise<string> => deps.sessions.mintForHostPage(session),
  };
}
