import { Router, type Response } from 'express';
import { accountIds, accountsOf, identityOf, transactionsOf } from './sandbox-data.js';
import { headerValue, requireCredential, sendNotFound, sendValidationError } from './sandbox-http.js';
import { ConnectionStatus, type SandboxMember, type SandboxStore } from './sandbox-store.js';
import { V1_AGGREGATORS, V2_AGGREGATORS, validateDataParams } from './sandbox-validation.js';

const CONNECTION_NOT_FOUND = 'Connection not found';
const ACCOUNT_NOT_FOUND = 'Account not found';

type DataField = Parameters<typeof validateDataParams>[1][number];

/**
 * The data and deletion endpoints of both versions. A member is visible only to its own user at
 * its own aggregator and only until deleted; anything else is a 404 `{ message }`, so tests can
 * prove the BFF never reads another user's data.
 */
export function dataRoutes(store: SandboxStore, options: { version: 1 | 2; isValidBearer: ((token: string) => boolean) | undefined; now: () => number }): Router {
  const router = Router();
  router.use(['/api/data', '/api/aggregator', '/api/connection'], requireCredential(options.isValidBearer));

  const invalid = (res: Response, input: Record<string, unknown>, fields: readonly DataField[], aggregators: readonly string[]) => {
    const message = validateDataParams(input, fields, aggregators);
    if (message) sendValidationError(res, message);
    return message !== undefined;
  };

  const sendData = (res: Response, member: SandboxMember | undefined, read: (member: SandboxMember, connected: boolean) => unknown) => {
    if (!member) return sendNotFound(res, CONNECTION_NOT_FOUND);
    res.json(read(member, member.status === ConnectionStatus.CONNECTED));
  };

  /** An account belongs to a connected, undeleted member of this user at this aggregator. */
  const accountOwner = (userId: string, aggregator: string, accountId: string, connectionId: string | undefined) =>
    store
      .membersOf(userId, aggregator)
      .find(
        (m) =>
          m.status === ConnectionStatus.CONNECTED &&
          (connectionId === undefined || m.connectionId === connectionId) &&
          accountIds(m).includes(accountId),
      );

  const deleteMember = (res: Response, userId: string, aggregator: string, connectionId: string) => {
    const member = store.ownedMember(userId, aggregator, connectionId);
    if (!member) return sendNotFound(res, CONNECTION_NOT_FOUND);
    member.deleted = true;
    res.status(200).end();
  };

  // Deleting an aggregator user removes all of that user's members there; 204 whether or not there were any.
  router.delete('/api/aggregator/:aggregator/user/:userId', (req, res) => {
    if (invalid(res, req.params, ['aggregator', 'userId'], V2_AGGREGATORS)) return;
    for (const member of store.membersOf(req.params.userId, req.params.aggregator)) member.deleted = true;
    res.status(204).end();
  });

  if (options.version === 1) {
    const connectionPath = '/api/data/aggregator/:aggregator/user/:userId/connection/:connectionId';
    router.get(`${connectionPath}/accounts`, (req, res) => {
      if (invalid(res, req.params, ['aggregator'], V1_AGGREGATORS)) return;
      sendData(res, store.ownedMember(req.params.userId, req.params.aggregator, req.params.connectionId), accountsOf);
    });
    router.get(`${connectionPath}/identity`, (req, res) => {
      if (invalid(res, req.params, ['aggregator'], V1_AGGREGATORS)) return;
      sendData(res, store.ownedMember(req.params.userId, req.params.aggregator, req.params.connectionId), identityOf);
    });
    router.get('/api/data/aggregator/:aggregator/user/:userId/account/:accountId/transactions', (req, res) => {
      const input = { ...req.params, ...(req.query as Record<string, unknown>) };
      if (invalid(res, input, ['aggregator', 'startDate', 'endDate'], V1_AGGREGATORS)) return;
      const { aggregator, userId, accountId } = req.params;
      const member = accountOwner(userId, aggregator, accountId, undefined);
      if (!member) return sendNotFound(res, ACCOUNT_NOT_FOUND);
      res.json(transactionsOf(member, accountId, dateRange(input), options.now()));
    });
    // openapi-v1 documents this for Plaid only; the simulator deletes its own members at any aggregator.
    router.delete('/api/aggregator/:aggregator/user/:userId/connection/:connectionId', (req, res) => {
      if (invalid(res, req.params, ['aggregator'], V2_AGGREGATORS)) return;
      deleteMember(res, req.params.userId, req.params.aggregator, req.params.connectionId);
    });
  } else {
    // v2 moved the connection id out of the URL into the `UCW-Connection-Id` header.
    const withConnection = (query: unknown, connectionId: string | undefined): Record<string, unknown> => ({
      ...(query as Record<string, unknown>),
      connectionId,
    });
    router.get('/api/data/accounts', (req, res) => {
      const input = withConnection(req.query, headerValue(req, 'UCW-Connection-Id'));
      if (invalid(res, input, ['aggregator', 'userId', 'connectionId'], V2_AGGREGATORS)) return;
      sendData(res, store.ownedMember(String(input['userId']), String(input['aggregator']), String(input['connectionId'])), accountsOf);
    });
    router.get('/api/data/identity', (req, res) => {
      const input = withConnection(req.query, headerValue(req, 'UCW-Connection-Id'));
      if (invalid(res, input, ['aggregator', 'userId', 'connectionId'], V1_AGGREGATORS)) return;
      sendData(res, store.ownedMember(String(input['userId']), String(input['aggregator']), String(input['connectionId'])), identityOf);
    });
    router.get('/api/data/transactions', (req, res) => {
      const input = req.query as Record<string, unknown>;
      if (invalid(res, input, ['accountId', 'aggregator', 'userId', 'startDate', 'endDate'], V1_AGGREGATORS)) return;
      const accountId = String(input['accountId']);
      const member = accountOwner(String(input['userId']), String(input['aggregator']), accountId, headerValue(req, 'UCW-Connection-Id'));
      if (!member) return sendNotFound(res, ACCOUNT_NOT_FOUND);
      res.json(transactionsOf(member, accountId, dateRange(input), options.now()));
    });
    router.delete('/api/connection', (req, res) => {
      const input = withConnection(req.query, headerValue(req, 'UCW-Connection-Id'));
      if (invalid(res, input, ['aggregator', 'userId', 'connectionId'], V2_AGGREGATORS)) return;
      deleteMember(res, String(input['userId']), String(input['aggregator']), String(input['connectionId']));
    });
  }

  return router;
}

function dateRange(input: Record<string, unknown>): { startDate: string | undefined; endDate: string | undefined } {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { startDate: text(input['startDate']), endDate: text(input['endDate']) };
}
