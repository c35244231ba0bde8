import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { firstDuplicateKey } from '@idp/service-kit';
import { Errors } from './api-error';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 8259: JSON exchanged between systems is UTF-8; any other declared charset is refused. */
function charsetIsUtf8(contentType: string | undefined): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

/**
 * Strict JSON: UTF-8 only, no member name twice in one object (JSON.parse would keep the last
 * silently, where a gateway's parser may have checked the first), and prototype-named keys kept as plain own properties (JSON.parse
 * does not pollute) so the validation pipe can refuse them with a message naming the field,
 * instead of Fastify's "not valid JSON" for a well-formed document.
 */
function parseJson(req: FastifyRequest, body: Buffer): unknown {
  if (!charsetIsUtf8(req.headers['content-type'])) throw Errors.unsupportedMediaType();
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw Errors.malformedBody('it is not UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw Errors.malformedBody(text.trim() === '' ? 'it is empty' : 'it is not well-formed');
  }
  const repeated = firstDuplicateKey(text);
  if (repeated !== undefined)
    throw Errors.malformedBody(
      `the member ${JSON.stringify(repeated.slice(0, 64))} appears twice in one object`,
    );
  return parsed;
}

/**
 * Request bodies are application/json only. Fastify answers 415 for types it has no parser
 * for; Nest would add a form-urlencoded parser and Fastify has a text/plain one, so those are
 * replaced by a refusal or removed. Every error goes through the API's exception filter.
 */
export function acceptJsonBodiesOnly(app: NestFastifyApplication): void {
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  app.useBodyParser('application/json', {}, async (req: FastifyRequest, body: Buffer) =>
    parseJson(req, body),
  );
  app.useBodyParser('application/x-www-form-urlencoded', {}, async () => {
    throw Errors.unsupportedMediaType();
  });
}
