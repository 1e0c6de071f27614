/**
 * Parameter validation that answers with the same first message the real UCW's Joi schemas
 * produce. Joi is not a dependency of this project, so the few rules the UCW uses are written
 * out here; the order of checks follows Joi's (declared keys in order, then unknown keys, then
 * peer dependencies), because only the first failure is ever reported.
 */

export const JOB_TYPES = ['accountNumber', 'accountOwner', 'transactions', 'transactionHistory'] as const;
/** The `aggregator` enum of `GET /widget` in openapi-v1.json. */
export const V1_AGGREGATORS = ['mx', 'mx_int', 'sophtron', 'finicity', 'finicity_sandbox'] as const;
/** The `aggregator` enum of `POST /widgetUrl` in openapi-v2.json. */
export const V2_AGGREGATORS = [...V1_AGGREGATORS, 'plaid', 'plaid_sandbox'] as const;
const AGGREGATOR_OVERRIDES = ['mx', 'sophtron', 'finicity'] as const;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** The parameters of a widget, whichever way (query or JSON body) they arrived. */
export interface WidgetParams {
  jobTypes: string[];
  userId: string;
  targetOrigin: string | undefined;
  institutionId: string | undefined;
  connectionId: string | undefined;
  aggregator: string | undefined;
  singleAccountSelect: boolean | undefined;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Encodes like the `he` package's default `he.encode`, which the UCW applies to Joi messages
 * before sending them as HTML: `"` becomes `&#x22;` and so on.
 */
export function heEncode(text: string): string {
  return text.replace(/[&<>"'`]|[^\x20-\x7E]/gu, (char) => `&#x${char.codePointAt(0)!.toString(16).toUpperCase()};`);
}

type Rule = (label: string, value: unknown) => string | undefined;

const required: Rule = (label, value) => (value === undefined ? `"${label}" is required` : undefined);

const string: Rule = (label, value) => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return `"${label}" must be a string`;
  if (value === '') return `"${label}" is not allowed to be empty`;
  return undefined;
};

const oneOf =
  (valids: readonly string[]): Rule =>
  (label, value) =>
    value === undefined || (typeof value === 'string' && valids.includes(value))
      ? undefined
      : `"${label}" must be one of [${valids.join(', ')}]`;

/** Joi's `boolean()` converts the strings "true"/"false" (any case), in queries and bodies alike. */
const boolean: Rule = (label, value) =>
  value === undefined || typeof value === 'boolean' || (typeof value === 'string' && /^(true|false)$/i.test(value))
    ? undefined
    : `"${label}" must be a boolean`;

const httpUri: Rule = (label, value) => {
  const notString = string(label, value);
  if (notString || value === undefined) return notString;
  const text = value as string;
  let url: URL | undefined;
  try {
    url = /^[a-z][a-z0-9+.-]*:/i.test(text) ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) return `"${label}" must be a valid uri`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `"${label}" must be a valid uri with a scheme matching the http|https pattern`;
  }
  return undefined;
};

const pattern =
  (regex: RegExp): Rule =>
  (label, value) => {
    const notString = string(label, value);
    if (notString || value === undefined) return notString;
    return regex.test(value as string)
      ? undefined
      : `"${label}" with value "${String(value)}" fails to match the required pattern: ${String(regex)}`;
  };

const all =
  (...rules: Rule[]): Rule =>
  (label, value) => {
    for (const rule of rules) {
      const message = rule(label, value);
      if (message) return message;
    }
    return undefined;
  };

/** v1 sends jobTypes as one comma-separated query string. */
const jobTypesCsv: Rule = (label, value) =>
  all(required, string)(label, value) ??
  ((value as string).split(',').every((item) => (JOB_TYPES as readonly string[]).includes(item))
    ? undefined
    : `"${label}" must be one of [${JOB_TYPES.join(', ')}]`);

/** v2 wants a real JSON array, each item checked and labelled by its index like Joi does. */
const jobTypesArray: Rule = (label, value) => {
  const missing = required(label, value);
  if (missing) return missing;
  if (!Array.isArray(value)) return `"${label}" must be an array`;
  for (const [index, item] of value.entries()) {
    const message = oneOf(JOB_TYPES)(`${label}[${index}]`, item);
    if (message) return message;
  }
  return undefined;
};

/**
 * The refresh trio: a connectionId needs its aggregator and institutionId, and an aggregator
 * needs its connectionId and institutionId (Joi `.with()`, whose message has no quotes).
 */
const PEERS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['connectionId', ['aggregator', 'institutionId']],
  ['aggregator', ['connectionId', 'institutionId']],
];

function validateObject(input: Record<string, unknown>, schema: ReadonlyArray<readonly [string, Rule]>): string | undefined {
  for (const [key, rule] of schema) {
    const message = rule(key, input[key]);
    if (message) return message;
  }
  const known = new Set(schema.map(([key]) => key));
  const unknown = Object.keys(input).find((key) => !known.has(key));
  if (unknown !== undefined) return `"${unknown}" is not allowed`;
  for (const [main, peers] of PEERS) {
    if (input[main] === undefined) continue;
    const missingPeer = peers.find((peer) => input[peer] === undefined);
    if (missingPeer) return `${main} missing required peer ${missingPeer}`;
  }
  return undefined;
}

const toBoolean = (value: unknown): boolean | undefined =>
  value === undefined ? undefined : typeof value === 'boolean' ? value : String(value).toLowerCase() === 'true';

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function toWidgetParams(input: Record<string, unknown>, jobTypes: string[]): WidgetParams {
  return {
    jobTypes,
    userId: input['userId'] as string,
    targetOrigin: optionalString(input['targetOrigin']),
    institutionId: optionalString(input['institutionId']),
    connectionId: optionalString(input['connectionId']),
    aggregator: optionalString(input['aggregator']),
    singleAccountSelect: toBoolean(input['singleAccountSelect']),
  };
}

const V1_WIDGET_SCHEMA: ReadonlyArray<readonly [string, Rule]> = [
  ['jobTypes', jobTypesCsv],
  ['userId', all(required, string)],
  ['targetOrigin', string],
  ['institutionId', string],
  ['connectionId', string],
  ['aggregator', all(string, oneOf(V1_AGGREGATORS))],
  ['singleAccountSelect', boolean],
  ['token', string],
  ['aggregatorOverride', all(string, oneOf(AGGREGATOR_OVERRIDES))],
];

/** v1 `GET /widget` query. */
export function validateV1WidgetQuery(query: Record<string, unknown>): Validation<WidgetParams> {
  const message = validateObject(query, V1_WIDGET_SCHEMA);
  if (message) return { ok: false, message };
  return { ok: true, value: toWidgetParams(query, (query['jobTypes'] as string).split(',')) };
}

const V2_WIDGET_URL_SCHEMA: ReadonlyArray<readonly [string, Rule]> = [
  ['jobTypes', jobTypesArray],
  ['userId', all(required, string)],
  ['targetOrigin', all(required, httpUri)],
  ['institutionId', string],
  ['connectionId', string],
  ['aggregator', all(string, oneOf(V2_AGGREGATORS))],
  ['singleAccountSelect', boolean],
  ['aggregatorOverride', all(string, oneOf(AGGREGATOR_OVERRIDES))],
];

/** v2 `POST /widgetUrl` JSON body. A missing body validates like `{}` (the first message is then about jobTypes). */
export function validateV2WidgetUrlBody(body: unknown): Validation<WidgetParams> {
  const input = body ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) return { ok: false, message: '"value" must be of type object' };
  const record = input as Record<string, unknown>;
  const message = validateObject(record, V2_WIDGET_URL_SCHEMA);
  if (message) return { ok: false, message };
  return { ok: true, value: toWidgetParams(record, [...(record['jobTypes'] as string[])]) };
}

/** `GET /api/token?userId=U` (v1). */
export function validateTokenQuery(query: Record<string, unknown>): Validation<{ userId: string }> {
  const message = all(required, string)('userId', query['userId']);
  return message ? { ok: false, message } : { ok: true, value: { userId: query['userId'] as string } };
}

/** Path/query checks of the data and delete endpoints; only the fields that are present in `input` are known. */
export function validateDataParams(
  input: Record<string, unknown>,
  fields: ReadonlyArray<'aggregator' | 'userId' | 'connectionId' | 'accountId' | 'startDate' | 'endDate'>,
  aggregators: readonly string[],
): string | undefined {
  const rules: Record<(typeof fields)[number], Rule> = {
    aggregator: all(required, string, oneOf(aggregators)),
    userId: all(required, string),
    connectionId: all(required, string),
    accountId: all(required, string),
    startDate: pattern(DATE_PATTERN),
    endDate: pattern(DATE_PATTERN),
  };
  for (const field of fields) {
    const message = rules[field](field === 'connectionId' ? 'ucw-connection-id' : field, input[field]);
    if (message) return message;
  }
  return undefined;
}
