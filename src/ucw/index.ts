// The UCW client's public surface, for the composition root and the features that call the UCW.
export { JOB_TYPES, isJobType, type JobType } from './job-types.js';
export {
  createUcwClient,
  type ConnectionRef,
  type TransactionsQuery,
  type UcwCheckResult,
  type UcwClient,
  type UcwClientOptions,
  type WidgetRequest,
} from './ucw-client.js';
export { createCredentialProvider, type CredentialProvider, type CredentialProviderOptions } from './ucw-credentials.js';
export { decodeHtmlEntities, ucwErrorMessage } from './ucw-message.js';
export { buildV1WidgetUrl, buildV2WidgetUrlBody, type V2WidgetUrlBody } from './ucw-widget-url.js';
