import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';

// Token-shaped strings (JWT/JWS/JWE compact serialisations all start with a base64url `{"`).
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)*/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// `Bearer <anything>` / `Basic <anything>` credentials quoted in an error message.
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// Attributes that carry a URL or its query: every query value is dropped, only names stay.
const URL_KEYS = new Set(['url.full', 'url.query', 'http.url', 'http.target', 'url.original']);
// Header capture is off everywhere; these keys are dropped if an instrumentation ever adds them.
const SECRET_KEY = /authorization|cookie|token|assertion|secret|password|x-csrf/i;

export const REDACTED = 'REDACTED';

/** Query parameters the HTTP instrumentation masks itself (a first line; the processor below is the net). */
export const SENSITIVE_QUERY_PARAMS = [
  'code',
  'state',
  'nonce',
  'id_token_hint',
  'id_token',
  'access_token',
  'refresh_token',
  'client_assertion',
  'client_secret',
  'code_verifier',
  'assertion',
  'token',
  'login_hint',
  'session_state',
  'sig',
  'signature',
];

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => (pair.includes('=') ? `${pair.slice(0, pair.indexOf('='))}=${REDACTED}` : pair))
    .join('&');
}

/** A URL (or path, or bare query) with every query value replaced. */
export function redactUrl(value: string, bareQuery = false): string {
  if (bareQuery) return redactQuery(value);
  const q = value.indexOf('?');
  if (q < 0) return value;
  const hash = value.indexOf('#', q);
  return `${value.slice(0, q + 1)}${redactQuery(value.slice(q + 1, hash < 0 ? undefined : hash))}`;
}

// What every match of the three patterns above contains: one cheap scan rules most strings out.
const MAYBE_SENSITIVE = /eyJ|@|\b(?:bearer|basic)\s/i;

/** Masks token-shaped strings, credentials and e-mail addresses anywhere in a string. */
export function redactText(value: string): string {
  if (!MAYBE_SENSITIVE.test(value)) return value;
  return value
    .replace(JWT, REDACTED)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(EMAIL, REDACTED);
}

// The same patterns over serialized JSON (a log line): a match must not start inside an escape
// (`\n`, `\u00e9` right before an address), or the replacement would break the line's JSON.
const OUTSIDE_ESCAPE = String.raw`(?<!\\(?:u[0-9A-Fa-f]{0,3})?)`;
const JSON_PATTERNS: [RegExp, string][] = [
  [new RegExp(OUTSIDE_ESCAPE + JWT.source, 'g'), REDACTED],
  [new RegExp(OUTSIDE_ESCAPE + AUTH_SCHEME.source, 'gi'), `$1 ${REDACTED}`],
  [new RegExp(OUTSIDE_ESCAPE + EMAIL.source, 'g'), REDACTED],
];

/** `redactText` for one serialized JSON line (pino's output): the result is still valid JSON. */
export function redactJsonLine(line: string): string {
  if (!MAYBE_SENSITIVE.test(line)) return line;
  let out = line;
  for (const [pattern, replacement] of JSON_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function redactValue(key: string, value: AttributeValue): AttributeValue {
  if (typeof value === 'string') {
    const v = URL_KEYS.has(key) ? redactUrl(value, key === 'url.query') : value;
    return redactText(v);
  }
  if (Array.isArray(value))
    return value.map((v) => (typeof v === 'string' ? redactText(v) : v)) as AttributeValue;
  return value;
}

// Attribute keys come from a small fixed set (the instrumentations' and ours): test each once.
const secretKeys = new Map<string, boolean>();
function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key) && !key.startsWith('db.');
    if (secretKeys.size < 1000) secretKeys.set(key, secret);
  }
  return secret;
}

function redactAttributes(
  attributes: Attributes,
  set: (key: string, value: AttributeValue | undefined) => void,
): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || typeof value === 'number' || typeof value === 'boolean') continue;
    if (isSecretKey(key)) {
      set(key, REDACTED);
      continue;
    }
    const next = redactValue(key, value);
    if (next !== value) set(key, next);
  }
}

/**
 * Last stop before a span becomes read-only: whatever an instrumentation recorded, no token,
 * credential, query value or e-mail address leaves the process (attributes, events, status).
 */
export class RedactingSpanProcessor implements SpanProcessor {
  onStart(): void {}
  onEnding(span: Span): void {
    redactAttributes(span.attributes, (k, v) => span.setAttribute(k, v as AttributeValue));
    for (const event of span.events) {
      const attrs = event.attributes as Record<string, AttributeValue | undefined> | undefined;
      if (attrs) redactAttributes(attrs, (k, v) => (attrs[k] = v));
    }
    if (span.status.message)
      span.setStatus({ ...span.status, message: redactText(span.status.message) });
    const name = redactText(redactUrl(span.name));
    if (name !== span.name) span.updateName(name);
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
