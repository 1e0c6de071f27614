import { Router } from 'express';
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { ConnectSessionService } from '../connect-sessions/connect-session.service.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../logger.js';

export interface HostPageDeps {
  db: Kysely<Database>;
  config: Config;
  service: ConnectSessionService;
  sessionSecrets: readonly string[];
  clock: () => Date;
  logger: Logger;
}

/** GET /connect/:sessionId — the host page (placeholder until the page lands). */
export function hostPageRoutes(_deps: HostPageDeps): Router {
  return Router();
}
