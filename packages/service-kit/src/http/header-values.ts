import type { FastifyReply, FastifyRequest } from 'fastify';

// Node refuses a header value with characters outside latin-1 (or controls) at writeHead, and
// Fastify 5 then never answers (its fallback error handler throws `cb is not a function`): the
// request hangs until its deadline. Such a value can only come from caller input that reached a
// header by mistake: a Location is percent-encoded, any other such header is dropped and logged
// by name (never its value).
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const isInvalidHeaderValue = (v: unknown): boolean =>
  typeof v === 'string'
    ? INVALID_HEADER_CHAR.test(v)
    : Array.isArray(v) && v.some((x) => typeof x === 'string' && INVALID_HEADER_CHAR.test(x));
const percentEncodeOutsideAscii = (v: string): string =>
  v.replace(/[^\x21-\x7e]/gu, (c) =>
    [...Buffer.from(c, 'utf8')]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
export function saneHeaderValues(reply: FastifyReply, log: FastifyRequest['log']): void {
  const headers = reply.getHeaders();
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (!isInvalidHeaderValue(value)) continue;
    if (name === 'location' && typeof value === 'string') {
      reply.header(name, percentEncodeOutsideAscii(value));
    } else {
      reply.removeHeader(name);
      log.error({ header: name }, 'response header with characters HTTP cannot carry dropped');
    }
  }
}
