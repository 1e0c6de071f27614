/**
 * Pure assembly of what the UCW needs to open a widget (SPEC §2), one function per version,
 * so the exact parameters can be tested without any network.
 */
import type { JobType } from './job-types.js';

export interface WidgetRequest {
  /** the UCW user id (already pseudonymized by the caller when configured) */
  userId: string;
  /** non-empty, deduplicated by the caller */
  jobTypes: readonly JobType[];
  /** http(s) origin */
  targetOrigin: string;
  institutionId?: string;
  refresh?: { connectionId: string; aggregator: string; institutionId: string };
  singleAccountSelect?: boolean;
}

/**
 * v1: `{base}/widget?jobTypes=a,b&userId=U&targetOrigin=O[&institutionId=I]
 * [&connectionId=C&aggregator=A&institutionId=I][&singleAccountSelect=…][&token=T]`.
 *
 * Every value goes through encodeURIComponent; the commas joining jobTypes stay literal (the
 * UCW splits on ","; the job type names themselves never need encoding). `institutionId`
 * appears once: a refresh uses the connection's institution. `targetOrigin` is always sent,
 * because without it the v1 widget posts its events to "/" (same origin only). `token` is
 * omitted when the UCW runs without authentication (there is no token endpoint then).
 *
 * Note: a v1 widget answers HTTP 200 `token invalid or expired` for a reused, unknown or
 * expired token (BEHAVIOUR.md); the browser sees that page, no error reaches the BFF.
 */
export function buildV1WidgetUrl(baseUrl: string, request: WidgetRequest, token: string | undefined): string {
  const pairs: Array<[string, string]> = [
    ['jobTypes', request.jobTypes.map(encodeURIComponent).join(',')],
    ['userId', encodeURIComponent(request.userId)],
    ['targetOrigin', encodeURIComponent(request.targetOrigin)],
  ];
  if (request.refresh) {
    pairs.push(
      ['connectionId', encodeURIComponent(request.refresh.connectionId)],
      ['aggregator', encodeURIComponent(request.refresh.aggregator)],
      ['institutionId', encodeURIComponent(request.refresh.institutionId)],
    );
  } else if (request.institutionId !== undefined) {
    pairs.push(['institutionId', encodeURIComponent(request.institutionId)]);
  }
  if (request.singleAccountSelect !== undefined) {
    pairs.push(['singleAccountSelect', String(request.singleAccountSelect)]);
  }
  if (token !== undefined) pairs.push(['token', encodeURIComponent(token)]);
  return `${baseUrl}/widget?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`;
}

/** The JSON body of v2 `POST /widgetUrl`: exactly the documented fields (v2 rejects unknown ones). */
export interface V2WidgetUrlBody {
  jobTypes: JobType[];
  userId: string;
  targetOrigin: string;
  institutionId?: string;
  connectionId?: string;
  aggregator?: string;
  singleAccountSelect?: boolean;
}

export function buildV2WidgetUrlBody(request: WidgetRequest): V2WidgetUrlBody {
  // Built field by field (never spread from the request) so no extra property can leak in.
  const body: V2WidgetUrlBody = {
    jobTypes: [...request.jobTypes],
    userId: request.userId,
    targetOrigin: request.targetOrigin,
  };
  if (request.refresh) {
    body.connectionId = request.refresh.connectionId;
    body.aggregator = request.refresh.aggregator;
    body.institutionId = request.refresh.institutionId;
  } else if (request.institutionId !== undefined) {
    body.institutionId = request.institutionId;
  }
  if (request.singleAccountSelect !== undefined) body.singleAccountSelect = request.singleAccountSelect;
  return body;
}
