import type { z } from 'zod';
import type { forwardedEventSchema } from '../api/response-schemas.js';
import type { ConnectionRow, ConnectSessionRow } from '../db/schema.js';

/**
 * What the host page forwards to the frontend for each event: the session's truth as it stands
 * after recording that event (SPEC §5), never what the event itself happened to carry, so a
 * frontend reading the last event sees the connection's aggregator and institution even on a
 * `stepChange`. Never an aggregator connection id, aggregator user id or token.
 */
export type ForwardedEvent = z.infer<typeof forwardedEventSchema>;

export function toForwardedEvent(
  type: string,
  session: Pick<ConnectSessionRow, 'id' | 'status' | 'institution_id' | 'connection_id'>,
  connection: Pick<ConnectionRow, 'id' | 'aggregator' | 'institution_id'> | undefined,
  error?: { statusCode: number | null },
): ForwardedEvent {
  // Only the session's own connection speaks for it.
  const own = connection && connection.id === session.connection_id ? connection : undefined;
  return {
    type,
    metadata: {
      sessionId: session.id,
      connectionId: session.connection_id,
      aggregator: own?.aggregator ?? null,
      institutionId: own?.institution_id ?? session.institution_id,
      status: session.status,
      ...(error ? { error } : {}),
    },
  };
}
