// WWW-Authenticate parsing (RFC 9110 §11.6.1) for Bearer challenges, and the
// RFC 9470 step-up one: error="insufficient_user_authentication" with the
// acr_values and/or max_age the resource server wants; beside it, Microsoft's
// claims challenge (error="insufficient_claims", claims="<base64 JSON>") that
// External ID clients answer with the `claims` authorize parameter.

import { authContextClaimsRequest } from '@idp/auth-common';
import type { StartOptions } from '../auth/auth.service';

export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

export interface StepUpChallenge {
  acrValues: string[];
  maxAge?: number;
  /** The decoded claims request of an insufficient_claims challenge (minified JSON). */
  claims?: string;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const TOKEN68 = /[A-Za-z0-9._~+/-]+=*/y;
const BWS = /[ \t]*/y;

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  match(re: RegExp): string | undefined {
    re.lastIndex = this.i;
    const m = re.exec(this.s);
    if (!m || m[0] === '') return undefined;
    this.i = re.lastIndex;
    return m[0];
  }
  ws(): void {
    this.match(BWS);
  }
  ch(): string | undefined {
    return this.s[this.i];
  }
  get done(): boolean {
    return this.i >= this.s.length;
  }
}

/** `name = value` at the cursor (value a token or quoted-string), or undefined with the cursor unmoved. */
function authParam(c: Cursor): [string, string] | undefined {
  const start = c.i;
  const name = c.match(TOKEN);
  c.ws();
  if (!name || c.ch() !== '=') {
    c.i = start;
    return undefined;
  }
  c.i++;
  c.ws();
  if (c.ch() === '"') {
    c.i++;
    let value = '';
    while (!c.done && c.ch() !== '"') {
      if (c.ch() === '\\') c.i++;
      value += c.ch() ?? '';
      c.i++;
    }
    c.i++;
    return [name.toLowerCase(), value];
  }
  const value = c.match(TOKEN);
  if (value === undefined) {
    c.i = start; // "abc=" is a token68 with padding, not a parameter
    return undefined;
  }
  return [name.toLowerCase(), value];
}

/** All challenges in a WWW-Authenticate value (auth-params, or a token68 kept as `token68`). */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  const c = new Cursor(header);
  while (!c.done) {
    c.ws();
    if (c.ch() === ',') {
      c.i++;
      continue;
    }
    const scheme = c.match(TOKEN);
    if (!scheme) break; // malformed: keep what parsed
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    c.ws();
    let param = authParam(c);
    if (!param) {
      const t68 = c.match(TOKEN68);
      if (t68) challenge.params.token68 = t68;
      continue;
    }
    while (param) {
      challenge.params[param[0]] ??= param[1];
      c.ws();
      if (c.ch() !== ',') break;
      c.i++;
      c.ws();
      param = authParam(c); // undefined: the next challenge starts here
    }
  }
  return out;
}

const MAX_CLAIMS_CHARS = 4096;

/**
 * The JSON of a claims challenge's `claims` value: Microsoft sends standard base64 (padded);
 * base64url is accepted too. Anything that is not a JSON object is ignored (undefined).
 */
export function decodeClaimsChallenge(value: string | undefined): string | undefined {
  if (!value || value.length > MAX_CLAIMS_CHARS || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value))
    return undefined;
  try {
    const parsed: unknown = JSON.parse(
      Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'),
    );
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? JSON.stringify(parsed)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The step-up request in a 401's WWW-Authenticate (RFC 9470 and/or a Microsoft claims challenge), if any. */
export function stepUpChallengeOf(header: string | null | undefined): StepUpChallenge | undefined {
  if (!header) return undefined;
  const bearers = parseWwwAuthenticate(header).filter((c) => c.scheme === 'bearer');
  const bearer = bearers.find((c) => c.params.error === 'insufficient_user_authentication');
  const claims = decodeClaimsChallenge(
    bearers.find((c) => c.params.error === 'insufficient_claims')?.params.claims,
  );
  if (!bearer && !claims) return undefined;
  const acrValues = (bearer?.params.acr_values ?? '').split(' ').filter(Boolean);
  const maxAgeRaw = bearer?.params.max_age;
  const maxAge = maxAgeRaw !== undefined && /^\d+$/.test(maxAgeRaw) ? Number(maxAgeRaw) : undefined;
  return { acrValues, ...(maxAge !== undefined ? { maxAge } : {}), ...(claims ? { claims } : {}) };
}

/**
 * External ID: the claims challenge goes back as the `claims` parameter (MSAL merges xms_cc for cp1);
 * only an RFC 9470 acr_values (no claims challenge) is turned into the same request. External tenants
 * have no sign-in frequency control, so a max_age from the API forces a fresh sign-in (prompt=login).
 */
export function externalIdStepUp(challenge: StepUpChallenge): StartOptions {
  const context = challenge.acrValues.find((v) => /^c\d{1,2}$/.test(v));
  const claims =
    challenge.claims ??
    (context ? decodeClaimsChallenge(authContextClaimsRequest(context)) : undefined);
  return {
    ...(claims ? { claims } : {}),
    ...(challenge.maxAge !== undefined || !claims ? { prompt: 'login' as const } : {}),
    ...(challenge.maxAge !== undefined ? { maxAge: challenge.maxAge } : {}),
  };
}
