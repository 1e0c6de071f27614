import { z } from 'zod';
import { hasControlCharacters } from '../lib/identifiers.js';
import { AppError } from '../http/errors.js';

/**
 * One widget postMessage event, normalized across the two UCW payload generations (SPEC §7):
 * v1 `member_guid` / `user_guid` / `connection_status`, v2 `connectionId` / `aggregatorUserId` /
 * `connectionStatus`, and `provider` as an older name of `aggregator`.
 */
export interface NormalizedEvent {
  type: string;
  aggregator: string | undefined;
  /** Secret: for plaid this is an access token. Never stored in the clear, logged or returned. */
  aggregatorConnectionId: string | undefined;
  /** Secret as well. */
  aggregatorUserId: string | undefined;
  statusCode: number | undefined;
  institutionId: string | undefined;
  /** Only the allow-listed, harmless fields: what the event log keeps and may show. */
  safeMetadata: Record<string, unknown>;
}

export const WIDGET_EVENT_TYPE = /^connect\/[A-Za-z][\w/.-]{0,63}$/;

/** What the relay and the webhook accept: `{ type: "connect/…", metadata: {…} }`. */
export const widgetEventSchema = z.strictObject({
  type: z.string().regex(WIDGET_EVENT_TYPE, 'must look like "connect/<name>"'),
  metadata: z.record(z.string(), z.unknown()).optional().default({}),
});

// Fields safe to keep: none identifies the aggregator connection or user, none is a credential.
const SAFE_FIELDS = ['aggregator', 'ucpInstitutionId', 'initial_step', 'current', 'previous', 'name', 'url', 'rawStatus', 'jobLastStep', 'did_go_back'] as const;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : typeof value === 'number' ? String(value) : undefined;

// Identifiers travel on to UCW URLs and headers: no whitespace or control characters.
const identifier = (value: unknown): string | undefined => {
  const candidate = text(value);
  return candidate !== undefined && !/\s/.test(candidate) && !hasControlCharacters(candidate) ? candidate : undefined;
};

/** The one spelling of an aggregator the BFF knows: what uniqueness, the blind index and the UCW see. */
export const AGGREGATOR_PATTERN = /^[a-z0-9_-]{1,64}$/;

/**
 * `MX`, ` mx ` and `mx` are one aggregator: trimmed and lower-cased, or undefined when the value
 * cannot be an aggregator at all. Only ASCII is lower-cased, so no Unicode letter (the Kelvin
 * sign lower-cases to "k") can become an ASCII name by case folding.
 */
export function normalizeAggregator(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return /^[A-Za-z0-9_-]{1,64}$/.test(trimmed) ? trimmed.toLowerCase() : undefined;
}

const statusCode = (value: unknown): number | undefined => {
  const n = typeof value === 'string' && /^\d{1,2}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 99 ? n : undefined;
};

/** The event's aggregator, normalized; an aggregator field that is present but unusable is a 400. */
function eventAggregator(metadata: Record<string, unknown>): string | undefined {
  const field = metadata.aggregator !== undefined && metadata.aggregator !== null ? 'aggregator' : 'provider';
  const raw = metadata[field];
  if (raw === undefined || raw === null) return undefined;
  const aggregator = normalizeAggregator(raw);
  if (aggregator === undefined) {
    const message = 'must be an aggregator name: 1 to 64 letters, digits, "_" or "-"';
    throw new AppError('validation_failed', `metadata.${field} ${message}.`, { fields: [{ field: `metadata.${field}`, message }] });
  }
  return aggregator;
}

/** Normalizes one event; throws a 400 AppError when it names an aggregator that cannot be one. */
export function normalizeEvent(type: string, metadata: Record<string, unknown>): NormalizedEvent {
  // connect/memberError nests the member: { member: { guid, connection_status } }.
  const member = metadata.member && typeof metadata.member === 'object' ? (metadata.member as Record<string, unknown>) : {};
  const safeMetadata: Record<string, unknown> = {};
  for (const field of SAFE_FIELDS) {
    const value = metadata[field];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') safeMetadata[field] = value;
  }
  const code = statusCode(metadata.connection_status ?? metadata.connectionStatus ?? member.connection_status ?? member.connectionStatus);
  if (code !== undefined) safeMetadata.statusCode = code;
  const aggregator = eventAggregator(metadata);
  if (aggregator) safeMetadata.aggregator = aggregator;
  return {
    type,
    aggregator,
    aggregatorConnectionId: identifier(metadata.member_guid ?? metadata.connectionId ?? member.guid ?? member.connectionId),
    aggregatorUserId: identifier(metadata.user_guid ?? metadata.aggregatorUserId),
    statusCode: code,
    institutionId: identifier(metadata.ucpInstitutionId),
    safeMetadata,
  };
}
