import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import pino, { type Logger as Pino } from 'pino';
import { redactJsonLine } from '../telemetry/redaction';
import { traceLogFields } from '../telemetry/spans';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's x-request-id only when it is a plain token, so it can't inject log lines. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The process-wide JSON logger: nothing secret (tokens, cookies, assertions) or personal. */
export function createRootLogger(service: string, level: string): Pino {
  return pino({
    level,
    base: { service },
    // trace_id/span_id of the active span on every line of a traced request (nothing otherwise).
    mixin: traceLogFields,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-csrf-token"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.client_secret',
        '*.client_assertion',
        '*.access_token',
        '*.id_token',
        '*.refresh_token',
      ],
      censor: '[redacted]',
    },
    // The last stop before a line is written: whatever a call site put in it (a request path, an
    // error message or stack, a value a client sent), token-shaped strings, `Bearer …`/`Basic …`
    // credentials and e-mail addresses are masked, as they are in exported spans.
    hooks: { streamWrite: redactJsonLine },
    serializers: {
      // Query strings can carry codes and tokens (OAuth redirects): log the path only.
      req: (req: { method: string; url: string }) => ({
        method: req.method,
        path: req.url.split('?')[0],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/** Nest's LoggerService over pino, so framework and application logs share one JSON stream. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}
  private write(
    level: 'info' | 'error' | 'warn' | 'debug' | 'trace',
    message: unknown,
    rest: unknown[],
  ): void {
    const context =
      typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (message instanceof Error) this.pino[level]({ context, err: message }, message.message);
    else if (typeof message === 'object' && message !== null)
      this.pino[level]({ context, ...message });
    else this.pino[level]({ context }, String(message));
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack, context); keep the stack out of the message line.
    const context = rest.length > 1 ? rest[rest.length - 1] : rest[0];
    this.write('error', message, typeof context === 'string' ? [context] : []);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
}
