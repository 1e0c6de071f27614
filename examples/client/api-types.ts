// Generated from GET /openapi.json by examples/client/generate.ts (npm run openapi:types). Do not edit.
export interface paths {
    "/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Sandbox demo page (development only) */
        get: operations["getDemoPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect-sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A connect session and, once connected, its connection */
        get: operations["getConnectSession"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect-sessions/{id}/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server-Sent Events of the session’s status changes (Last-Event-ID resumes) */
        get: operations["streamConnectSession"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect-url": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a connect session and its URL */
        post: operations["createConnectUrl"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect.d.ts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** TypeScript declarations of connect.js */
        get: operations["getConnectScriptTypes"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect.js": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The drop-in browser script (window.UcwConnect) */
        get: operations["getConnectScript"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect/{sessionId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The host page embedding the widget (capability in the query) */
        get: operations["getHostPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /** Checks a host page link without spending a load or a UCW token (link previews) */
        head: operations["checkHostPage"];
        patch?: never;
        trace?: never;
    };
    "/connect/{sessionId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The person cancelled (host page Cancel, or connect.js closed): the session ends `cancelled` (host page capability, or the user for embed "direct") */
        post: operations["cancelConnectSession"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect/{sessionId}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Relay one widget event (host page capability, or the user for embed "direct") */
        post: operations["relayEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect/{sessionId}/widget-url": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A fresh widget URL for the host page’s popup presentation */
        post: operations["createWidgetUrl"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The user’s connections (deleted ones left out) */
        get: operations["listConnections"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connections/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One connection (also when deleted) */
        get: operations["getConnection"];
        put?: never;
        post?: never;
        /** Delete a connection (at the UCW too when UCW_DELETE_ENABLED) */
        delete: operations["deleteConnection"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connections/{id}/accounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The connection’s accounts, from the UCW data endpoints (UCW_DATA_ENDPOINTS) */
        get: operations["getConnectionAccounts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connections/{id}/identity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The connection’s identity, from the UCW data endpoints (UCW_DATA_ENDPOINTS) */
        get: operations["getConnectionIdentity"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connections/{id}/transactions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The connection’s transactions, from the UCW data endpoints (UCW_DATA_ENDPOINTS) */
        get: operations["getConnectionTransactions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/demo": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Sandbox demo page (development only) */
        get: operations["getDemoPageAlias"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dev/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Development sign-in as any user id (never in production) */
        post: operations["devLogin"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dev/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Development sign-out */
        post: operations["devLogout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Signed webhook-style event ingestion (Standard Webhooks) */
        post: operations["ingestEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness (never rate-limited, touches no dependency) */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who the request is authenticated as */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the database (critical) and the UCW (shown) */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Connection: {
            aggregator: string;
            /** Format: date-time */
            createdAt: string;
            dataReady: boolean;
            duplicateOf: string | null;
            id: string;
            institutionId: string | null;
            jobTypes: ("accountNumber" | "accountOwner" | "transactions" | "transactionHistory")[];
            lastConnectedAt: string | null;
            /** @enum {string} */
            status: "pending" | "connected" | "needs_attention" | "error" | "disconnected" | "deleted";
            statusCode: number | null;
            /** Format: date-time */
            updatedAt: string;
            verified: boolean;
        };
        Problem: {
            /** @enum {string} */
            code: "validation_failed" | "malformed_json" | "malformed_request" | "unauthenticated" | "invalid_signature" | "forbidden" | "capability_invalid" | "not_found" | "request_timeout" | "conflict" | "capability_expired" | "payload_too_large" | "unsupported_media_type" | "rate_limited" | "headers_too_large" | "internal" | "ucw_rejected_request" | "ucw_credentials_rejected" | "ucw_bad_response" | "ucw_unavailable" | "not_ready" | "overloaded" | "ucw_timeout";
            detail: string;
            errors?: {
                field: string;
                message: string;
            }[];
            requestId: string;
            status: number;
            title: string;
            type: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getDemoPage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The demo */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description Not in sandbox mode */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "Not found.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getConnectSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Session id
                 * @example cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4",
                     *       "status": "connected",
                     *       "mode": "new",
                     *       "jobTypes": [
                     *         "transactions"
                     *       ],
                     *       "expiresAt": "2026-11-30T10:30:00.000Z",
                     *       "lastError": null,
                     *       "connection": {
                     *         "id": "conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0",
                     *         "aggregator": "sophtron",
                     *         "institutionId": "sandbox-bank",
                     *         "status": "connected",
                     *         "statusCode": 0,
                     *         "jobTypes": [
                     *           "transactions"
                     *         ],
                     *         "verified": true,
                     *         "dataReady": true,
                     *         "duplicateOf": null,
                     *         "createdAt": "2026-11-30T10:00:00.000Z",
                     *         "updatedAt": "2026-11-30T10:00:05.000Z",
                     *         "lastConnectedAt": "2026-11-30T10:00:03.000Z"
                     *       }
                     *     }
                     */
                    "application/json": {
                        connection: components["schemas"]["Connection"] | null;
                        /** Format: date-time */
                        expiresAt: string;
                        id: string;
                        jobTypes: ("accountNumber" | "accountOwner" | "transactions" | "transactionHistory")[];
                        lastError: {
                            /** Format: date-time */
                            at: string;
                            statusCode: number | null;
                        } | null;
                        /** @enum {string} */
                        mode: "new" | "refresh";
                        /** @enum {string} */
                        status: "created" | "opened" | "connected" | "failed" | "cancelled" | "expired";
                    };
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connect session, or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connect session.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No database connection free in time (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:overloaded",
                     *       "title": "Service overloaded",
                     *       "status": 503,
                     *       "detail": "The service is busy; retry shortly.",
                     *       "code": "overloaded",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    streamConnectSession: {
        parameters: {
            query?: never;
            header?: {
                /** @example 3 */
                "Last-Event-ID"?: string;
            };
            path: {
                /**
                 * @description Session id
                 * @example cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description event: snapshot | status | connected | verified | dataReady | failed | verificationFailed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example event: snapshot
                     *     data: {"sessionId":"cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4","status":"opened"}
                     *
                     *     id: 2
                     *     event: connected
                     *     data: {"connection":{"id":"conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0"}}
                     */
                    "text/event-stream": string;
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connect session, or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connect session.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No database connection free in time (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:overloaded",
                     *       "title": "Service overloaded",
                     *       "status": 503,
                     *       "detail": "The service is busy; retry shortly.",
                     *       "code": "overloaded",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createConnectUrl: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "jobTypes": [
                 *         "transactions"
                 *       ],
                 *       "institutionId": "sandbox-bank"
                 *     }
                 */
                "application/json": {
                    connectionId?: string;
                    /**
                     * @default host
                     * @enum {string}
                     */
                    embed?: "host" | "direct";
                    institutionId?: string;
                    jobTypes: string[] | string;
                    /**
                     * @default auto
                     * @enum {string}
                     */
                    presentation?: "auto" | "iframe" | "popup";
                    /** Format: uri */
                    redirectUri?: string;
                    singleAccountSelect?: boolean;
                    targetOrigin?: string;
                };
            };
        };
        responses: {
            /** @description The session */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "sessionId": "cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4",
                     *       "url": "http://localhost:3000/connect/cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4?exp=1764500000&sig=q3X0bq4V",
                     *       "expiresAt": "2026-11-30T10:30:00.000Z",
                     *       "mode": "new"
                     *     }
                     */
                    "application/json": {
                        existingConnectionId?: string;
                        /** Format: date-time */
                        expiresAt: string;
                        /** @enum {string} */
                        mode: "new" | "refresh";
                        sessionId: string;
                        /** Format: uri */
                        url: string;
                    };
                };
            };
            /** @description Invalid body (each field named in `errors`), or malformed JSON */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:validation_failed",
                     *       "title": "Request validation failed",
                     *       "status": 400,
                     *       "detail": "jobTypes: at least one job type is required",
                     *       "code": "validation_failed",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Cookie-authenticated request from an origin not in ALLOWED_ORIGINS */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:forbidden",
                     *       "title": "Forbidden",
                     *       "status": 403,
                     *       "detail": "This origin may not make cookie-authenticated changes.",
                     *       "code": "forbidden",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connection to refresh, or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connection to refresh.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES, or JSON deeper than 32 levels or with more than 1,000 entries */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:payload_too_large",
                     *       "title": "Payload too large",
                     *       "status": 413,
                     *       "detail": "The request body is larger than 65536 bytes.",
                     *       "code": "payload_too_large",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body is not application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unsupported_media_type",
                     *       "title": "Unsupported media type",
                     *       "status": 415,
                     *       "detail": "Send the body as application/json.",
                     *       "code": "unsupported_media_type",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many connect URLs for this user, or failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW refused the request or the BFF’s credentials, or answered badly */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_rejected_request",
                     *       "title": "The UCW rejected the request",
                     *       "status": 502,
                     *       "detail": "The UCW rejected the request: \"institutionId\" is not allowed.",
                     *       "code": "ucw_rejected_request",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW is unreachable, or the BFF is overloaded (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_unavailable",
                     *       "title": "The UCW is unavailable",
                     *       "status": 503,
                     *       "detail": "The UCW could not be reached.",
                     *       "code": "ucw_unavailable",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW did not answer in time */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_timeout",
                     *       "title": "The UCW did not answer in time",
                     *       "status": 504,
                     *       "detail": "The UCW did not answer within 10000 ms.",
                     *       "code": "ucw_timeout",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getConnectScriptTypes: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description TypeScript */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example declare namespace UcwConnect { … } */
                    "application/typescript": string;
                };
            };
            /** @description Not modified (ETag) */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getConnectScript: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description JavaScript */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example /*! UcwConnect … *\/ */
                    "text/javascript": string;
                };
            };
            /** @description Not modified (ETag) */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getHostPage: {
        parameters: {
            query: {
                /**
                 * @description Capability expiry (unix seconds)
                 * @example 1764500000
                 */
                exp: string;
                /**
                 * @description Capability HMAC
                 * @example q3X0bq4VtJmQ2b1yYxZ7pJc9Hn2v6s8dKf0lA1eG5rE
                 */
                sig: string;
            };
            header?: never;
            path: {
                /**
                 * @description Session id
                 * @example cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4
                 */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description Invalid link */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description Unknown session */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description Expired or finished */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description Too many loads, or too many requests from this IP */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description Unexpected failure */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description UCW error, with retry */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description UCW unreachable, with retry */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description UCW slow, with retry */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
        };
    };
    checkHostPage: {
        parameters: {
            query: {
                /**
                 * @description Capability expiry (unix seconds)
                 * @example 1764500000
                 */
                exp: string;
                /**
                 * @description Capability HMAC
                 * @example q3X0bq4VtJmQ2b1yYxZ7pJc9Hn2v6s8dKf0lA1eG5rE
                 */
                sig: string;
            };
            header?: never;
            path: {
                /**
                 * @description Session id
                 * @example cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4
                 */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Valid */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid link */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Unknown session */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Expired or finished */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Too many loads, or too many requests from this IP */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Unexpected failure */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    cancelConnectSession: {
        parameters: {
            query?: {
                /**
                 * @description Capability expiry (unix seconds)
                 * @example 1764500000
                 */
                exp?: string;
                /**
                 * @description Capability HMAC
                 * @example q3X0bq4VtJmQ2b1yYxZ7pJc9Hn2v6s8dKf0lA1eG5rE
                 */
                sig?: string;
            };
            header?: never;
            path: {
                /**
                 * @description Session id
                 * @example cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4
                 */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session as it now stands (an ended session is unchanged) and the `connect/cancelled` copy for the frontend */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "sessionStatus": "cancelled",
                     *       "forward": {
                     *         "type": "connect/cancelled",
                     *         "metadata": {
                     *           "sessionId": "cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4",
                     *           "connectionId": null,
                     *           "aggregator": null,
                     *           "institutionId": null,
                     *           "status": "cancelled"
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": {
                        forward: {
                            metadata: {
                                aggregator: string | null;
                                connectionId: string | null;
                                error?: {
                                    statusCode: number | null;
                                };
                                institutionId: string | null;
                                sessionId: string;
                                /** @enum {string} */
                                status: "created" | "opened" | "connected" | "failed" | "cancelled" | "expired";
                            };
                            type: string;
                        };
                        /** @enum {string} */
                        sessionStatus: "created" | "opened" | "connected" | "failed" | "cancelled" | "expired";
                    };
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid capability */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:capability_invalid",
                     *       "title": "Invalid connect link",
                     *       "status": 403,
                     *       "detail": "This connect link is incomplete or has been altered.",
                     *       "code": "capability_invalid",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connect session, or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connect session.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Link expired */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:capability_expired",
                     *       "title": "Connect link expired",
                     *       "status": 410,
                     *       "detail": "This connect session has expired.",
                     *       "code": "capability_expired",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No database connection free in time (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:overloaded",
                     *       "title": "Service overloaded",
                     *       "status": 503,
                     *       "detail": "The service is busy; retry shortly.",
                     *       "code": "overloaded",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    relayEvent: {
        parameters: {
            query?: {
                /**
                 * @description Capability expiry (unix seconds)
                 * @example 1764500000
                 */
                exp?: string;
                /**
                 * @description Capability HMAC
                 * @example q3X0bq4VtJmQ2b1yYxZ7pJc9Hn2v6s8dKf0lA1eG5rE
                 */
                sig?: string;
            };
            header?: never;
            path: {
                /**
                 * @description Session id
                 * @example cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4
                 */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "type": "connect/memberConnected",
                 *       "metadata": {
                 *         "aggregator": "sophtron",
                 *         "connectionId": "MBR-123",
                 *         "aggregatorUserId": "USR-456",
                 *         "ucpInstitutionId": "sandbox-bank"
                 *       }
                 *     }
                 */
                "application/json": {
                    /** @default {} */
                    metadata?: {
                        [key: string]: unknown;
                    };
                    type: string;
                };
            };
        };
        responses: {
            /** @description Recorded (or a duplicate); what to forward to the frontend */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "recorded": true,
                     *       "sessionStatus": "connected",
                     *       "forward": {
                     *         "type": "connect/memberConnected",
                     *         "metadata": {
                     *           "sessionId": "cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4",
                     *           "connectionId": "conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0",
                     *           "aggregator": "sophtron",
                     *           "institutionId": "sandbox-bank",
                     *           "status": "connected"
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": {
                        forward: {
                            metadata: {
                                aggregator: string | null;
                                connectionId: string | null;
                                error?: {
                                    statusCode: number | null;
                                };
                                institutionId: string | null;
                                sessionId: string;
                                /** @enum {string} */
                                status: "created" | "opened" | "connected" | "failed" | "cancelled" | "expired";
                            };
                            type: string;
                        };
                        recorded: boolean;
                        /** @enum {string} */
                        sessionStatus: "created" | "opened" | "connected" | "failed" | "cancelled" | "expired";
                    };
                };
            };
            /** @description Invalid event, or malformed JSON */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:validation_failed",
                     *       "title": "Request validation failed",
                     *       "status": 400,
                     *       "detail": "event.type: must look like \"connect/<name>\"",
                     *       "code": "validation_failed",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid capability */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:capability_invalid",
                     *       "title": "Invalid connect link",
                     *       "status": 403,
                     *       "detail": "This connect link is incomplete or has been altered.",
                     *       "code": "capability_invalid",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connect session, or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connect session.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The aggregator connection belongs to another user */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:conflict",
                     *       "title": "Conflict",
                     *       "status": 409,
                     *       "detail": "This connection belongs to another user.",
                     *       "code": "conflict",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Session expired */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:capability_expired",
                     *       "title": "Connect link expired",
                     *       "status": 410,
                     *       "detail": "This connect session has expired.",
                     *       "code": "capability_expired",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES, or JSON deeper than 32 levels or with more than 1,000 entries */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:payload_too_large",
                     *       "title": "Payload too large",
                     *       "status": 413,
                     *       "detail": "The request body is larger than 65536 bytes.",
                     *       "code": "payload_too_large",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body is not application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unsupported_media_type",
                     *       "title": "Unsupported media type",
                     *       "status": 415,
                     *       "detail": "Send the body as application/json.",
                     *       "code": "unsupported_media_type",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No database connection free in time (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:overloaded",
                     *       "title": "Service overloaded",
                     *       "status": 503,
                     *       "detail": "The service is busy; retry shortly.",
                     *       "code": "overloaded",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createWidgetUrl: {
        parameters: {
            query: {
                /**
                 * @description Capability expiry (unix seconds)
                 * @example 1764500000
                 */
                exp: string;
                /**
                 * @description Capability HMAC
                 * @example q3X0bq4VtJmQ2b1yYxZ7pJc9Hn2v6s8dKf0lA1eG5rE
                 */
                sig: string;
            };
            header?: never;
            path: {
                /**
                 * @description Session id
                 * @example cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4
                 */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The widget URL */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "url": "https://ucw.example.com/widget?token=8c1f0e3a"
                     *     }
                     */
                    "application/json": {
                        /** Format: uri */
                        url: string;
                    };
                };
            };
            /** @description Invalid capability, or a foreign Origin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:capability_invalid",
                     *       "title": "Invalid connect link",
                     *       "status": 403,
                     *       "detail": "This connect link is incomplete or has been altered.",
                     *       "code": "capability_invalid",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unknown session */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connect session.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Expired or finished */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:capability_expired",
                     *       "title": "Connect link expired",
                     *       "status": 410,
                     *       "detail": "This connect link has expired.",
                     *       "code": "capability_expired",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many loads (SESSION_MAX_LOADS), or too many requests from this IP */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "This connect link has been opened too many times.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW refused the request or the BFF’s credentials, or answered badly */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_rejected_request",
                     *       "title": "The UCW rejected the request",
                     *       "status": 502,
                     *       "detail": "The UCW rejected the request: \"institutionId\" is not allowed.",
                     *       "code": "ucw_rejected_request",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW is unreachable, or the BFF is overloaded (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_unavailable",
                     *       "title": "The UCW is unavailable",
                     *       "status": 503,
                     *       "detail": "The UCW could not be reached.",
                     *       "code": "ucw_unavailable",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW did not answer in time */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_timeout",
                     *       "title": "The UCW did not answer in time",
                     *       "status": 504,
                     *       "detail": "The UCW did not answer within 10000 ms.",
                     *       "code": "ucw_timeout",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listConnections: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Connections */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "connections": [
                     *         {
                     *           "id": "conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0",
                     *           "aggregator": "sophtron",
                     *           "institutionId": "sandbox-bank",
                     *           "status": "connected",
                     *           "statusCode": 0,
                     *           "jobTypes": [
                     *             "transactions"
                     *           ],
                     *           "verified": true,
                     *           "dataReady": true,
                     *           "duplicateOf": null,
                     *           "createdAt": "2026-11-30T10:00:00.000Z",
                     *           "updatedAt": "2026-11-30T10:00:05.000Z",
                     *           "lastConnectedAt": "2026-11-30T10:00:03.000Z"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": {
                        connections: components["schemas"]["Connection"][];
                    };
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No database connection free in time (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:overloaded",
                     *       "title": "Service overloaded",
                     *       "status": 503,
                     *       "detail": "The service is busy; retry shortly.",
                     *       "code": "overloaded",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getConnection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Connection id
                 * @example conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The connection */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0",
                     *       "aggregator": "sophtron",
                     *       "institutionId": "sandbox-bank",
                     *       "status": "connected",
                     *       "statusCode": 0,
                     *       "jobTypes": [
                     *         "transactions"
                     *       ],
                     *       "verified": true,
                     *       "dataReady": true,
                     *       "duplicateOf": null,
                     *       "createdAt": "2026-11-30T10:00:00.000Z",
                     *       "updatedAt": "2026-11-30T10:00:05.000Z",
                     *       "lastConnectedAt": "2026-11-30T10:00:03.000Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Connection"];
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connection, or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connection.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No database connection free in time (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:overloaded",
                     *       "title": "Service overloaded",
                     *       "status": 503,
                     *       "detail": "The service is busy; retry shortly.",
                     *       "code": "overloaded",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteConnection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Connection id
                 * @example conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Cookie-authenticated request from an origin not in ALLOWED_ORIGINS */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:forbidden",
                     *       "title": "Forbidden",
                     *       "status": 403,
                     *       "detail": "This origin may not make cookie-authenticated changes.",
                     *       "code": "forbidden",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connection, or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connection.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW refused the request or the BFF’s credentials, or answered badly */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_rejected_request",
                     *       "title": "The UCW rejected the request",
                     *       "status": 502,
                     *       "detail": "The UCW rejected the request: \"institutionId\" is not allowed.",
                     *       "code": "ucw_rejected_request",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW is unreachable, or the BFF is overloaded (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_unavailable",
                     *       "title": "The UCW is unavailable",
                     *       "status": 503,
                     *       "detail": "The UCW could not be reached.",
                     *       "code": "ucw_unavailable",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW did not answer in time */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_timeout",
                     *       "title": "The UCW did not answer in time",
                     *       "status": 504,
                     *       "detail": "The UCW did not answer within 10000 ms.",
                     *       "code": "ucw_timeout",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getConnectionAccounts: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Connection id
                 * @example conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description UCW data as the UCW returns it */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "accounts": [
                     *         {
                     *           "accountId": "acct-1",
                     *           "accountType": "CHECKING"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": Record<string, never>;
                };
            };
            /** @description Invalid query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:validation_failed",
                     *       "title": "Request validation failed",
                     *       "status": 400,
                     *       "detail": "accountId: Required",
                     *       "code": "validation_failed",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connection (or the data endpoints are off), or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connection (or the data endpoints are off).",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many data requests for this user (RATE_LIMIT_DATA_PER_MIN), or failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW refused the request or the BFF’s credentials, or answered badly */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_rejected_request",
                     *       "title": "The UCW rejected the request",
                     *       "status": 502,
                     *       "detail": "The UCW rejected the request: \"institutionId\" is not allowed.",
                     *       "code": "ucw_rejected_request",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW is unreachable, or the BFF is overloaded (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_unavailable",
                     *       "title": "The UCW is unavailable",
                     *       "status": 503,
                     *       "detail": "The UCW could not be reached.",
                     *       "code": "ucw_unavailable",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW did not answer in time */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_timeout",
                     *       "title": "The UCW did not answer in time",
                     *       "status": 504,
                     *       "detail": "The UCW did not answer within 10000 ms.",
                     *       "code": "ucw_timeout",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getConnectionIdentity: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Connection id
                 * @example conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description UCW data as the UCW returns it */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "customers": [
                     *         {
                     *           "customerId": "cust-1"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": Record<string, never>;
                };
            };
            /** @description Invalid query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:validation_failed",
                     *       "title": "Request validation failed",
                     *       "status": 400,
                     *       "detail": "accountId: Required",
                     *       "code": "validation_failed",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connection (or the data endpoints are off), or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connection (or the data endpoints are off).",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many data requests for this user (RATE_LIMIT_DATA_PER_MIN), or failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW refused the request or the BFF’s credentials, or answered badly */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_rejected_request",
                     *       "title": "The UCW rejected the request",
                     *       "status": 502,
                     *       "detail": "The UCW rejected the request: \"institutionId\" is not allowed.",
                     *       "code": "ucw_rejected_request",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW is unreachable, or the BFF is overloaded (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_unavailable",
                     *       "title": "The UCW is unavailable",
                     *       "status": 503,
                     *       "detail": "The UCW could not be reached.",
                     *       "code": "ucw_unavailable",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW did not answer in time */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_timeout",
                     *       "title": "The UCW did not answer in time",
                     *       "status": 504,
                     *       "detail": "The UCW did not answer within 10000 ms.",
                     *       "code": "ucw_timeout",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getConnectionTransactions: {
        parameters: {
            query: {
                /** @example acct-1 */
                accountId: string;
                /** @example 2026-11-30 */
                endDate?: string;
                /** @example 2026-11-01 */
                startDate?: string;
            };
            header?: never;
            path: {
                /**
                 * @description Connection id
                 * @example conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description UCW data as the UCW returns it */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "transactions": [
                     *         {
                     *           "transactionId": "tx-1",
                     *           "amount": 12.5
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": Record<string, never>;
                };
            };
            /** @description Invalid query */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:validation_failed",
                     *       "title": "Request validation failed",
                     *       "status": 400,
                     *       "detail": "accountId: Required",
                     *       "code": "validation_failed",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such connection (or the data endpoints are off), or not this user’s */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "No such connection (or the data endpoints are off).",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many data requests for this user (RATE_LIMIT_DATA_PER_MIN), or failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW refused the request or the BFF’s credentials, or answered badly */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_rejected_request",
                     *       "title": "The UCW rejected the request",
                     *       "status": 502,
                     *       "detail": "The UCW rejected the request: \"institutionId\" is not allowed.",
                     *       "code": "ucw_rejected_request",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW is unreachable, or the BFF is overloaded (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_unavailable",
                     *       "title": "The UCW is unavailable",
                     *       "status": 503,
                     *       "detail": "The UCW could not be reached.",
                     *       "code": "ucw_unavailable",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The UCW did not answer in time */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:ucw_timeout",
                     *       "title": "The UCW did not answer in time",
                     *       "status": 504,
                     *       "detail": "The UCW did not answer within 10000 ms.",
                     *       "code": "ucw_timeout",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getDemoPageAlias: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The demo */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example <!doctype html><html lang="en">…</html> */
                    "text/html": string;
                };
            };
            /** @description Not in sandbox mode */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "Not found.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    devLogin: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "alice"
                 *     }
                 */
                "application/json": {
                    userId: string;
                };
            };
        };
        responses: {
            /** @description Signed in; the auth cookie is set */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "userId": "alice",
                     *       "token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl",
                     *       "warning": "Development login: never enabled in production."
                     *     }
                     */
                    "application/json": {
                        token: string;
                        userId: string;
                        warning: string;
                    };
                };
            };
            /** @description Invalid user id, or malformed JSON */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:validation_failed",
                     *       "title": "Request validation failed",
                     *       "status": 400,
                     *       "detail": "userId: letters, digits and _ . @ : - only",
                     *       "code": "validation_failed",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Dev login disabled */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "Not found.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES, or JSON deeper than 32 levels or with more than 1,000 entries */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:payload_too_large",
                     *       "title": "Payload too large",
                     *       "status": 413,
                     *       "detail": "The request body is larger than 65536 bytes.",
                     *       "code": "payload_too_large",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body is not application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unsupported_media_type",
                     *       "title": "Unsupported media type",
                     *       "status": 415,
                     *       "detail": "Send the body as application/json.",
                     *       "code": "unsupported_media_type",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    devLogout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cookie cleared */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Dev login disabled */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:not_found",
                     *       "title": "Not found",
                     *       "status": 404,
                     *       "detail": "Not found.",
                     *       "code": "not_found",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    ingestEvent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "type": "connect/memberConnected",
                 *       "userId": "alice",
                 *       "sessionId": "cs_01JDQ6Y4N8T0V5W2X9Z3A7B1C4",
                 *       "metadata": {
                 *         "aggregator": "sophtron",
                 *         "connectionId": "MBR-123",
                 *         "ucpInstitutionId": "sandbox-bank"
                 *       }
                 *     }
                 */
                "application/json": {
                    metadata: {
                        [key: string]: unknown;
                    };
                    sessionId?: string;
                    timestamp?: string;
                    type: string;
                    userId: string;
                };
            };
        };
        responses: {
            /** @description Applied, or a redelivery */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "received": true,
                     *       "duplicate": false,
                     *       "connectionId": "conn_01JDQ6Z2K4M6P8R0S2T4V6W8X0",
                     *       "sessionStatus": "connected"
                     *     }
                     */
                    "application/json": {
                        connectionId: string | null;
                        duplicate: boolean;
                        /** @constant */
                        received: true;
                        sessionStatus: ("created" | "opened" | "connected" | "failed" | "cancelled" | "expired") | null;
                    };
                };
            };
            /** @description Invalid body (fields named), malformed JSON, or a webhook-id that is not 1–256 printable ASCII characters */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:validation_failed",
                     *       "title": "Request validation failed",
                     *       "status": 400,
                     *       "detail": "userId: Required",
                     *       "code": "validation_failed",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing or bad signature, or a stale timestamp */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:invalid_signature",
                     *       "title": "Invalid signature",
                     *       "status": 401,
                     *       "detail": "No signature matches.",
                     *       "code": "invalid_signature",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The aggregator connection belongs to another user */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:conflict",
                     *       "title": "Conflict",
                     *       "status": 409,
                     *       "detail": "This connection belongs to another user.",
                     *       "code": "conflict",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES, or JSON deeper than 32 levels or with more than 1,000 entries */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:payload_too_large",
                     *       "title": "Payload too large",
                     *       "status": 413,
                     *       "detail": "The request body is larger than 65536 bytes.",
                     *       "code": "payload_too_large",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Body is not application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unsupported_media_type",
                     *       "title": "Unsupported media type",
                     *       "status": 415,
                     *       "detail": "Send the body as application/json.",
                     *       "code": "unsupported_media_type",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No database connection free in time (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:overloaded",
                     *       "title": "Service overloaded",
                     *       "status": 503,
                     *       "detail": "The service is busy; retry shortly.",
                     *       "code": "overloaded",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": {
                        /** @constant */
                        status: "ok";
                    };
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "userId": "alice"
                     *     }
                     */
                    "application/json": {
                        userId: string;
                    };
                };
            };
            /** @description No or invalid user token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid bearer token or auth cookie is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many failed authentications from this IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No database connection free in time (Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:overloaded",
                     *       "title": "Service overloaded",
                     *       "status": 503,
                     *       "detail": "The service is busy; retry shortly.",
                     *       "code": "overloaded",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /** @example ucw_bff_outbox_dead_letters 0 */
                    "text/plain": string;
                };
            };
            /** @description METRICS_TOKEN required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:unauthenticated",
                     *       "title": "Authentication required",
                     *       "status": 401,
                     *       "detail": "A valid metrics token is required.",
                     *       "code": "unauthenticated",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OpenAPI 3.1 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "openapi": "3.1.0"
                     *     }
                     */
                    "application/json": Record<string, never>;
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ready",
                     *       "dependencies": {
                     *         "database": {
                     *           "status": "up",
                     *           "critical": true
                     *         },
                     *         "ucw": {
                     *           "status": "up",
                     *           "critical": false
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": {
                        dependencies: {
                            [key: string]: {
                                critical: boolean;
                                /** @enum {string} */
                                status: "up" | "down";
                            };
                        };
                        /** @enum {string} */
                        status: "ready" | "not_ready";
                    };
                };
            };
            /** @description Too many requests from this client IP (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:rate_limited",
                     *       "title": "Too many requests",
                     *       "status": 429,
                     *       "detail": "Too many requests. Try again in 30 seconds.",
                     *       "code": "rate_limited",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure (logged with the request id) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:ucw-bff:problem:internal",
                     *       "title": "Internal server error",
                     *       "status": 500,
                     *       "detail": "Something went wrong on our side.",
                     *       "code": "internal",
                     *       "requestId": "5d6f2c1e-8a3b-4f0e-9c51-2b7e4d9a1f30"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not ready */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "not_ready",
                     *       "dependencies": {
                     *         "database": {
                     *           "status": "down",
                     *           "critical": true
                     *         },
                     *         "ucw": {
                     *           "status": "up",
                     *           "critical": false
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": {
                        dependencies: {
                            [key: string]: {
                                critical: boolean;
                                /** @enum {string} */
                                status: "up" | "down";
                            };
                        };
                        /** @enum {string} */
                        status: "ready" | "not_ready";
                    };
                };
            };
        };
    };
}
