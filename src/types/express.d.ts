import 'express-serve-static-core';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the request-id middleware on every request. */
    id: string;
    /** Set by the user-auth middleware on authenticated routes. */
    user?: { id: string; via: 'bearer' | 'cookie' };
  }
}
