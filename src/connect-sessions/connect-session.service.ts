import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { ConnectionService } from '../connections/connection.service.js';
import { toConnection } from '../connections/connection.view.js';
import type { Database, ConnectSessionRow } from '../db/schema.js';
import { iso } from '../db/executor.js';
import { AppError } from '../http/errors.js';
import { looksLikeId, newId } from '../ids.js';
import { capabilityQuery, checkCapability, signCapability, type Capability } from '../lib/capability.js';
import { redirectUriProblem } from '../lib/redirect-uri.js';
import type { JobType } from '../ucw/job-types.js';
import type { UcwClient, WidgetRequest } from '../ucw/index.js';
import {
  countSessionLoad,
  deleteConnectSession,
  findConnectSession,
  findLatestSessionIdOfConnection,
  findOwnedConnectSession,
  insertConnectSession,
  listDueSessions,
  updateOpenConnectSession,
} from './connect-session.repository.js';
import { toConnectSessionView, type ConnectSessionView } from './connect-session.view.js';
import type { ConnectUrlBody } from './connect-url.schemas.js';

export interface ConnectSessionServiceDeps {
  db: Kysely<Database>;
  ucw: UcwClient;
  connections: ConnectionService;
  clock: () => Date;
  ucwUserId: (platformUserId: string) => string;
  sessionSecrets: readonly string[];
  config: Pick<Config, 'env' | 'publicUrl' | 'allowedOrigins' | 'allowedRedirectUris' | 'session'>;
}

export interface ConnectUrlResult {
  sessionId: string;
  url: string;
  expiresAt: string;
  mode: 'new' | 'refresh';
  /** Set when the user already has a live connection at the requested institution (offer a refresh). */
  existingConnectionId?: string;
}

export type ConnectSessionService = ReturnType<typeof createConnectSessionService>;

/** What never changes after a session is created: enough to check a link to it. */
export type SessionFacts = Pick<ConnectSessionRow, 'id' | 'user_id' | 'embed' | 'expires_at'>;

/**
 * Sessions' fixed facts by id, most recently seen last, at most `max`. Only facts that never
 * change are kept, so an entry is never stale, on this instance or because of another one.
 */
function sessionFactsCache(max = 10_000) {
  const entries = new Map<string, SessionFacts>();
  return {
    get: (id: string): SessionFacts | undefined => entries.get(id),
    remember({ id, user_id, embed, expires_at }: SessionFacts): void {
      entries.delete(id);
      entries.set(id, { id, user_id, embed, expires_at });
      if (entries.size > max) entries.delete(entries.keys().next().value!);
    },
  };
}
/** The session record the service hands out (routes name it from here, never from db/). */
export type { ConnectSessionRow };

export function createConnectSessionService(deps: ConnectSessionServiceDeps) {
  const allowedOrigins = new Set(deps.config.allowedOrigins);
  const allowedRedirects = new Set(deps.config.allowedRedirectUris);
  const bffOrigin = new URL(deps.config.publicUrl).origin;

  /** The frontend origin events go to: the explicit one, else the caller's Origin when allowed. */
  function resolveTargetOrigin(given: string | undefined, requestOrigin: string | undefined): string | null {
    if (given !== undefined) {
      if (!allowedOrigins.has(given)) {
        throw new AppError('validation_failed', `targetOrigin "${given}" is not in ALLOWED_ORIGINS.`, {
          fields: [{ field: 'targetOrigin', message: 'not an allowed origin' }],
        });
      }
      return given;
    }
    return requestOrigin && allowedOrigins.has(requestOrigin) ? requestOrigin : null;
  }

  /** The UCW-side refresh parameters of one of the user's own connections; anyone else's is a 404. */
  async function refreshTarget(userId: string, connectionId: string, institutionOverride: string | undefined) {
    const row = await deps.connections.findOwnedConnection(deps.db, userId, connectionId);
    if (!row || row.status === 'deleted') throw new AppError('not_found', 'No such connection.');
    const institutionId = row.institution_id ?? institutionOverride;
    if (!institutionId) {
      throw new AppError('conflict', 'This connection has no known institution; send institutionId to refresh it.');
    }
    return {
      row,
      refresh: {
        connectionId: deps.connections.ucwRef(row).connectionId,
        aggregator: row.aggregator,
        institutionId,
      },
    };
  }

  function widgetRequest(session: ConnectSessionRow, refresh: WidgetRequest['refresh'], targetOrigin: string): WidgetRequest {
    return {
      userId: deps.ucwUserId(session.user_id),
      jobTypes: JSON.parse(session.job_types) as JobType[],
      targetOrigin,
      ...(refresh ? { refresh } : session.institution_id ? { institutionId: session.institution_id } : {}),
      ...(session.single_account_select === null ? {} : { singleAccountSelect: session.single_account_select === 1 }),
    };
  }

  /**
   * The UCW call and the session's write run side by side, so a direct connect URL costs one
   * round trip's wait, not two. Neither half is left behind: a session whose mint failed is
   * removed again (should that fail too, nobody holds its id and the expiry sweep ends it), and a
   * minted token whose session could not be written is single-use and expires unused.
   */
  async function mintAndRecord(session: ConnectSessionRow, request: WidgetRequest): Promise<string> {
    const [minted, written] = await Promise.allSettled([deps.ucw.mintWidgetUrl(request), insertConnectSession(deps.db, session)]);
    if (minted.status === 'rejected') {
      if (written.status === 'fulfilled') await deleteConnectSession(deps.db, session.id).catch(() => undefined);
      throw minted.reason;
    }
    if (written.status === 'rejected') throw written.reason;
    return minted.value;
  }

  const facts = sessionFactsCache();

  function assertCapability<S extends SessionFacts>(session: S | undefined, capability: Capability | undefined, now: Date): S {
    if (!session) throw new AppError('not_found', 'No such connect session.');
    const verdict = checkCapability(deps.sessionSecrets, session.id, session.user_id, capability, now);
    if (verdict === 'capability_invalid') throw new AppError('capability_invalid', 'This connect link is incomplete or has been altered.');
    if (verdict === 'capability_expired') throw new AppError('capability_expired', 'This connect link has expired. Start again from the app.');
    return session;
  }

  return {
    /** POST /connect-url: records the session; mints now only for `embed: "direct"`. */
    async create(userId: string, body: ConnectUrlBody, requestOrigin: string | undefined): Promise<ConnectUrlResult> {
      const targetOrigin = resolveTargetOrigin(body.targetOrigin, requestOrigin);
      if (body.embed === 'direct' && !targetOrigin) {
        throw new AppError('validation_failed', 'embed "direct" needs targetOrigin (or an allowed Origin header): the widget posts its events there.', {
          fields: [{ field: 'targetOrigin', message: 'required for embed "direct"' }],
        });
      }
      if (body.redirectUri !== undefined) {
        // The scheme rule again, not only the list: a list built outside loadConfig is not trusted.
        const why = redirectUriProblem(body.redirectUri, { production: deps.config.env === 'production' });
        if (why) throw new AppError('validation_failed', `redirectUri ${why}.`, { fields: [{ field: 'redirectUri', message: why }] });
        if (!allowedRedirects.has(body.redirectUri)) {
          throw new AppError('validation_failed', 'redirectUri is not in ALLOWED_REDIRECT_URIS.', {
            fields: [{ field: 'redirectUri', message: 'not an allowed redirect URI' }],
          });
        }
      }
      const target = body.connectionId ? await refreshTarget(userId, body.connectionId, body.institutionId) : undefined;

      const now = deps.clock();
      const expiresAt = new Date(now.getTime() + deps.config.session.ttlSeconds * 1000);
      const session: ConnectSessionRow = {
        id: newId('cs'),
        user_id: userId,
        mode: target ? 'refresh' : 'new',
        job_types: JSON.stringify(body.jobTypes),
        institution_id: target?.refresh.institutionId ?? body.institutionId ?? null,
        connection_id: target?.row.id ?? null,
        target_origin: targetOrigin,
        embed: body.embed,
        presentation: body.presentation,
        redirect_uri: body.redirectUri ?? null,
        single_account_select: body.singleAccountSelect === undefined ? null : body.singleAccountSelect ? 1 : 0,
        status: 'created',
        failure_reason: null,
        last_error_code: null,
        last_error_at: null,
        load_count: 0,
        expires_at: iso(expiresAt),
        created_at: iso(now),
        updated_at: iso(now),
      };

      const existing =
        !target && body.institutionId ? await deps.connections.findLiveConnectionAt(deps.db, userId, { institutionId: body.institutionId }) : undefined;
      const url =
        body.embed === 'direct'
          ? await mintAndRecord(session, widgetRequest(session, target?.refresh, targetOrigin!))
          : `${deps.config.publicUrl}/connect/${session.id}?${capabilityQuery(signCapability(deps.sessionSecrets, session.id, userId, expiresAt))}`;
      if (body.embed !== 'direct') {
        await insertConnectSession(deps.db, session);
        facts.remember(session);
      }

      return {
        sessionId: session.id,
        url,
        expiresAt: session.expires_at,
        mode: session.mode,
        ...(existing ? { existingConnectionId: existing.id } : {}),
      };
    },

    /** Mints a fresh widget URL for the host page, whose own origin receives the widget's events. */
    async mintForHostPage(session: ConnectSessionRow): Promise<string> {
      const target = session.mode === 'refresh' && session.connection_id ? await refreshTarget(session.user_id, session.connection_id, session.institution_id ?? undefined) : undefined;
      return deps.ucw.mintWidgetUrl(widgetRequest(session, target?.refresh, bffOrigin));
    },

    /** One of the user's own sessions, or a 404 that says nothing about anyone else's. */
    async findOwned(userId: string, id: string): Promise<ConnectSessionRow> {
      const found = looksLikeId('cs', id) ? await findOwnedConnectSession(deps.db, userId, id) : undefined;
      if (!found) throw new AppError('not_found', 'No such connect session.');
      return found;
    },

    /**
     * The session a signed link opens: 404 when there is none, `capability_invalid` (403) unless
     * SESSION_SECRET signed it for this session and user, `capability_expired` (410) once expired.
     */
    async findByCapability(id: string, capability: Capability | undefined, now: Date): Promise<ConnectSessionRow> {
      const session = looksLikeId('cs', id) ? await findConnectSession(deps.db, id) : undefined;
      if (session) facts.remember(session);
      return assertCapability(session, capability, now);
    },

    /**
     * As `findByCapability`, but answers with the session's fixed facts only, from memory when
     * this instance has seen the session before: a host page load then costs no read before the
     * one write that counts it (and returns the row as it stands).
     */
    async checkCapability(id: string, capability: Capability | undefined, now: Date): Promise<SessionFacts> {
      const known = facts.get(id);
      if (known) return assertCapability(known, capability, now);
      return this.findByCapability(id, capability, now);
    },

    /** `GET /connect-sessions/:id`: the session and the user's connection it names. */
    async view(session: ConnectSessionRow): Promise<ConnectSessionView> {
      const connection = session.connection_id ? await deps.connections.findOwnedConnection(deps.db, session.user_id, session.connection_id) : undefined;
      return toConnectSessionView(session, connection ? toConnection(connection) : null);
    },

    /** A session by id alone, as it stands now (the caller proved its right to it already). */
    findById: (id: string): Promise<ConnectSessionRow | undefined> => findConnectSession(deps.db, id),

    /** Counts one host page load against the session's budget: the row as counted, or undefined once spent or no longer open. */
    countLoad: (id: string, now: Date): Promise<ConnectSessionRow | undefined> => countSessionLoad(deps.db, id, deps.config.session.maxLoads, iso(now)),

    // For other features' use cases: the repository's queries, taking the caller's database or transaction first.
    findConnectSession,
    updateOpenConnectSession,
    listDueSessions,
    findLatestSessionIdOfConnection,
  };
}
