import type { z } from 'zod';
import type { connectSessionSchema } from '../api/response-schemas.js';
import type { Connection } from '../connections/connection.view.js';
import type { ConnectSessionRow } from '../db/schema.js';
import type { JobType } from '../ucw/job-types.js';

/** `GET /connect-sessions/:id` (SPEC §9), declared once as a zod schema. */
export type ConnectSessionView = z.infer<typeof connectSessionSchema>;

export function toConnectSessionView(row: ConnectSessionRow, connection: Connection | null): ConnectSessionView {
  return {
    id: row.id,
    status: row.status,
    mode: row.mode,
    jobTypes: JSON.parse(row.job_types) as JobType[],
    expiresAt: row.expires_at,
    lastError: row.last_error_at === null ? null : { statusCode: row.last_error_code, at: row.last_error_at },
    connection,
  };
}
