/**
 * Requests Node's HTTP parser rejects before any handler sees them (a body cut short, a NUL in
 * the request line, headers too large, a request that stalls): answer with a status and a
 * message that says what was wrong, instead of Node's bare "400 Bad Request".
 */
import type { Socket } from 'node:net';

const REASONS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request headers are too large; send fewer or smaller headers'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request was not received in time; send the whole request promptly'],
  ERR_HTTP_HEADERS_TIMEOUT: [408, 'the request headers were not received in time'],
  HPE_INVALID_EOF_STATE: [
    400,
    'the connection ended before the request body was complete (shorter than its Content-Length); send the whole body',
  ],
};
const TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] = REASONS[err.code ?? ''] ?? [
    400,
    `malformed HTTP request (${err.code ?? err.message}): check the request line, headers and body framing`,
  ];
  const body = message + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${TEXT[status]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Fastgshare-Error: bad_request\r\nConnection: close\r\n\r\n${body}`,
  );
}
