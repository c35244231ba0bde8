// Requests Node's HTTP parser refuses before Fastify sees them (a request line or headers over
// the size limit, malformed HTTP, a client timeout) are answered on the raw socket; this writes
// the stand-in's own error body there instead of Fastify's {"error","message","statusCode"}.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

export type ClientErrorKind = 'timeout' | 'too_large' | 'malformed';

export function clientErrorHandler(
  bodyFor: (kind: ClientErrorKind, status: number) => object,
  extraHeaders: () => Record<string, string> = () => ({}),
): (err: { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [kind, status]: [ClientErrorKind, number] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['timeout', 408]
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? ['too_large', 431]
          : ['malformed', 400];
    const body = JSON.stringify(bodyFor(kind, status));
    const headers = Object.entries({
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
      ...extraHeaders(),
    })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    if (socket.writable)
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${headers}\r\n${body}`);
    socket.destroy();
  };
}
