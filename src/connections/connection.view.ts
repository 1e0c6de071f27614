import type { JobType } from '../ucw/job-types.js';
import type { ConnectionRow } from '../db/schema.js';

/** The public shape of a connection (SPEC §9). Built field by field: secret columns cannot leak. */
export interface Connection {
  id: string;
  aggregator: string;
  institutionId: string | null;
  status: ConnectionRow['status'];
  statusCode: number | null;
  jobTypes: JobType[];
  verified: boolean;
  dataReady: boolean;
  duplicateOf: string | null;
  createdAt: string;
  updatedAt: string;
  lastConnectedAt: string | null;
}

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
