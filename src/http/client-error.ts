import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';
import { AppError, type ErrorCode } from './errors.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

/** What each of Node's parser errors means to the caller; anything else is unparseable HTTP. */
function problemFor(nodeCode: string | undefined): { code: ErrorCode; detail: string } {
  switch (nodeCode) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers_too_large', detail: 'The request headers are larger than this server accepts.' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { code: 'payload_too_large', detail: 'The request chunk extensions are larger than this server accepts.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', detail: 'The request was not received in time.' };
    default:
      return { code: 'malformed_request', detail: 'The request is not valid HTTP.' };
  }
}

/**
 * Answers the requests Node's HTTP parser refuses before Express sees them (bad request line,
 * headers too large, header timeout) with a problem+json like every other error, where the
 * socket still allows an answer. Never logs the raw bytes: they may hold credentials.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
    // A reset peer, or a response already under way, leaves nothing to answer.
    if (error.code === 'ECONNRESET' || !socket.writable || (socket.bytesWritten ?? 0) > 0) {
      socket.destroy();
      return;
    }
    const { code, detail } = problemFor(error.code);
    const requestId = randomUUID();
    const problem = new AppError(code, detail);
    const body = JSON.stringify(toProblem(problem, requestId));
    logger.info({ requestId, status: problem.status, parserError: error.code }, 'HTTP parser refused a request');
    socket.end(
      [
        `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`,
        `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Cache-Control: no-store',
        'X-Content-Type-Options: nosniff',
        `X-Request-Id: ${requestId}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });
}
