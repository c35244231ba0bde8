// Reads OAuth parameters from a parsed form body or query string: single
// string values only (a repeated parameter is an error, as in Entra).
import type { FastifyRequest } from 'fastify';
import { errors } from './errors';

export class FormParams {
  private constructor(private readonly values: Record<string, unknown>) {}

  /** Anything that is not a plain object (raw text, JSON array...) has no parameters. */
  static from(input: unknown): FormParams {
    return new FormParams(
      input !== null && typeof input === 'object' && !Array.isArray(input)
        ? (input as Record<string, unknown>)
        : {},
    );
  }

  /** Token endpoints read form-encoded bodies only (a JSON body has no parameters, as in Entra). */
  static fromForm(req: FastifyRequest): FormParams {
    const type = mediaType(req.headers['content-type']);
    return FormParams.from(type === 'application/x-www-form-urlencoded' ? req.body : undefined);
  }

  get(name: string): string | undefined {
    if (!Object.hasOwn(this.values, name)) return undefined;
    const v = this.values[name];
    if (Array.isArray(v)) throw errors.duplicateParameter(name);
    if (typeof v !== 'string') throw errors.invalidParameter(name);
    return v === '' ? undefined : v;
  }

  require(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw errors.missingParameter(name);
    return v;
  }
}

/** The media type of a Content-Type header, lower-cased, without parameters ('' when absent). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}
