// WWW-Authenticate parsing (RFC 9110 §11.6.1) for Bearer challenges, and the
// RFC 9470 step-up one: error="insufficient_user_authentication" with the
// acr_values and/or max_age the resource server wants.

export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

export interface StepUpChallenge {
  acrValues: string[];
  maxAge?: number;
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

/** The step-up request in a 401's WWW-Authenticate, if the Bearer challenge is one. */
export function stepUpChallengeOf(header: string | null | undefined): StepUpChallenge | undefined {
  if (!header) return undefined;
  const bearer = parseWwwAuthenticate(header).find((c) => c.scheme === 'bearer' && c.params.error === 'insufficient_user_authentication');
  if (!bearer) return undefined;
  const acrValues = (bearer.params.acr_values ?? '').split(' ').filter(Boolean);
  const maxAgeRaw = bearer.params.max_age;
  const maxAge = maxAgeRaw !== undefined && /^\d+$/.test(maxAgeRaw) ? Number(maxAgeRaw) : undefined;
  return { acrValues, ...(maxAge !== undefined ? { maxAge } : {}) };
}
