import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import { findLiveConnectionAt, findOwnedConnection } from '../connections/connection.repository.js';
import type { SecretBox } from '../connections/secret-box.js';
import type { Database, ConnectSessionRow } from '../db/schema.js';
import { iso } from '../db/executor.js';
import { AppError } from '../http/errors.js';
import { newId } from '../ids.js';
import { redirectUriProblem } from '../lib/redirect-uri.js';
import type { JobType } from '../ucw/job-types.js';
import type { UcwClient, WidgetRequest } from '../ucw/index.js';
import { capabilityQuery, signCapability } from './capability.js';
import { insertConnectSession } from './connect-session.repository.js';
import type { ConnectUrlBody } from './connect-url.schemas.js';

export interface ConnectSessionServiceDeps {
  db: Kysely<Database>;
  ucw: UcwClient;
  secretBox: SecretBox;
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
    const row = await findOwnedConnection(deps.db, userId, connectionId);
    if (!row || row.status === 'deleted') throw new AppError('not_found', 'No such connection.');
    const institutionId = row.institution_id ?? institutionOverride;
    if (!institutionId) {
      throw new AppError('conflict', 'This connection has no known institution; send institutionId to refresh it.');
    }
    return {
      row,
      refresh: {
        connectionId: deps.secretBox.open(row.aggregator_connection_id, row.encryption_key_id),
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
        !target && body.institutionId ? await findLiveConnectionAt(deps.db, userId, { institutionId: body.institutionId }) : undefined;
      // Mint, then write last: a UCW failure or a busy database pool leaves no half-made session behind.
      const url =
        body.embed === 'direct'
          ? await deps.ucw.mintWidgetUrl(widgetRequest(session, target?.refresh, targetOrigin!))
          : `${deps.config.publicUrl}/connect/${session.id}?${capabilityQuery(signCapability(deps.sessionSecrets, session.id, userId, expiresAt))}`;
      await insertConnectSession(deps.db, session);

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
  };
}
