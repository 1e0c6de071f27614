import type { z } from 'zod';
import type { connectionSchema } from '../api/response-schemas.js';
import type { JobType } from '../ucw/job-types.js';
import type { ConnectionRow } from '../db/schema.js';

/** The public shape of a connection (SPEC §9), declared once as a zod schema. Built field by field: secret columns cannot leak. */
export type Connection = z.infer<typeof connectionSchema>;

export function toConnection(row: ConnectionRow): Connection {
  return {
    id: row.id,
    aggregator: row.aggregator,
    institutionId: row.institution_id,
    status: row.status,
    statusCode: row.status_code,
    jobTypes: JSON.parse(row.job_types) as JobType[],
    verified: row.verified === 1,
    dataReady: row.data_ready === 1,
    duplicateOf: row.duplicate_of,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastConnectedAt: row.last_connected_at,
  };
}
