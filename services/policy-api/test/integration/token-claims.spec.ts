// Claims of a validly signed token that policy-api keys policies by or writes into audit rows:
// an oid or azp it cannot store faithfully is refused (401 invalid_token) before anything is
// read or written, and a fractional auth_time is recorded in whole seconds. Each was a 500.
import { randomUUID } from 'node:crypto';
import { Harness } from '../support/harness';
import {
  challengeParams,
  type ErrorBody,
  type HistoryBody,
  type PolicyBody,
} from '../support/fixtures';
import { MFA_FLOW, PORTAL_CLIENT_ID } from '../support/tokens';

const now = () => Math.floor(Date.now() / 1000);

describe('token claims that key or audit a policy', () => {
  let h: Harness;
  beforeAll(async () => {
    // Shorter than the 24 h default, so the lifetime test below proves the variable is applied.
    h = await Harness.start({ AUTH_MAX_TOKEN_LIFETIME_SECONDS: '7200' });
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  /** A token of the MFA flow with both scopes, signed by the trusted B2C key, with `claims` on top. */
  const token = (claims: Record<string, unknown>) => {
    const oid = randomUUID();
    return h.issuer.sign({
      iss: h.issuer.issuer,
      aud: '1d5a0a76-3f56-4b6a-a5fa-4dc21dbc0c05',
      exp: now() + 3600,
      nbf: now() - 10,
      iat: now(),
      ver: '1.0',
      tfp: MFA_FLOW,
      oid,
      sub: oid,
      scp: 'Accounts.Read Accounts.Write',
      azp: PORTAL_CLIENT_ID,
      auth_time: now(),
      ...claims,
    });
  };
  const count = async (table: string) =>
    Number((await h.db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  it('refuses an oid or azp that cannot be stored as it is (NUL, a lone surrogate, control or non-ASCII characters, over 128 characters): 401 invalid_token on every route, nothing stored', async () => {
    const before = [await count('policies'), await count('policy_history')];
    const bad: Record<string, unknown>[] = [
      { oid: 'a\u0000b', sub: 'a\u0000b' },
      { oid: 'a\ud800b', sub: 'a\ud800b' },
      { oid: 'a\nb', sub: 'a\nb' },
      { oid: 'ä-user', sub: 'ä-user' },
      { oid: 'x'.repeat(129), sub: 'x'.repeat(129) },
      { azp: 'a\u0000b' },
      { azp: 'a\ud800' },
      { azp: 'z'.repeat(3000) },
      { azp: 42 },
    ];
    for (const claims of bad) {
      const t = await token(claims);
      const calls = [
        h.call<ErrorBody>('GET', '/policies/me', { token: t }),
        h.call<ErrorBody>('GET', '/policies/me/history', { token: t }),
        h.call<ErrorBody>('PUT', '/policies/me/beneficiaries', {
          token: t,
          headers: { 'if-match': '"v1"' },
          body: { beneficiaries: [{ name: 'A', relationship: 'spouse', sharePercent: 100 }] },
        }),
      ];
      for (const r of await Promise.all(calls)) {
        const claim = JSON.stringify(claims).slice(0, 60);
        expect({ claim, status: r.status, error: r.body.error }).toEqual({
          claim,
          status: 401,
          error: 'invalid_token',
        });
        expect(challengeParams(r.headers.get('www-authenticate')).error).toBe('invalid_token');
      }
    }
    expect([await count('policies'), await count('policy_history')]).toEqual(before);
  });

  it('refuses time claims no Entra or B2C token has (iat in the future, a lifetime over AUTH_MAX_TOKEN_LIFETIME_SECONDS, exp 1e20, non-integer, negative or string dates): 401 invalid_token naming the claim, nothing stored', async () => {
    const before = [await count('policies'), await count('policy_history')];
    const t = now();
    const cases: [Record<string, unknown>, string][] = [
      [{ iat: t + 3600 }, 'The access token was issued in the future (iat)'],
      [{ nbf: t + 3600 }, 'The access token is not yet valid (nbf is in the future)'],
      [{ exp: 1e20 }, 'The access token exp claim is not a valid NumericDate'],
      [
        { nbf: t - 60, exp: t - 60 + 3 * 3600 },
        'The access token lifetime (exp - nbf) exceeds the maximum accepted',
      ],
      [
        { nbf: undefined, iat: t - 60, exp: t + 2 * 3600 },
        'The access token lifetime (exp - iat) exceeds the maximum accepted',
      ],
      [{ exp: t + 600.5 }, 'The access token exp claim is not a valid NumericDate'],
      [{ iat: -1 }, 'The access token iat claim is not a valid NumericDate'],
      [{ nbf: String(t) }, 'The access token nbf claim is not a valid NumericDate'],
    ];
    for (const [claims, description] of cases) {
      const tok = await token(claims);
      for (const r of [
        await h.call<ErrorBody>('GET', '/policies/me', { token: tok }),
        await h.call<ErrorBody>('GET', '/policies/PN0000000001', { token: tok }),
      ]) {
        expect({ claims, status: r.status, body: r.body }).toEqual({
          claims,
          status: 401,
          body: { error: 'invalid_token', error_description: description },
        });
        expect(challengeParams(r.headers.get('www-authenticate'))).toEqual({
          error: 'invalid_token',
          error_description: description,
        });
      }
    }
    expect([await count('policies'), await count('policy_history')]).toEqual(before);
    // Two hours (the configured maximum) is still a token.
    const ok = await h.call('GET', '/policies/me', {
      token: await token({ nbf: t - 60, iat: t - 60, exp: t - 60 + 7200 }),
    });
    expect(ok.status).toBe(201);
  });

  it('accepts a fractional auth_time (a NumericDate may have one) and audits it in whole seconds', async () => {
    const authTime = now() - 5;
    const t = await token({ auth_time: authTime + 0.75 });
    const read = await h.call<PolicyBody>('GET', '/policies/me', { token: t });
    expect(read.status).toBe(201);
    const put = await h.call<PolicyBody>('PUT', '/policies/me/beneficiaries', {
      token: t,
      headers: { 'if-match': read.headers.get('etag') ?? '' },
      body: { beneficiaries: [{ name: 'Sam', relationship: 'spouse', sharePercent: 100 }] },
    });
    expect(put.status).toBe(200);
    const history = await h.call<HistoryBody>('GET', '/policies/me/history', { token: t });
    expect(history.body.items[0]?.authTime).toBe(new Date(authTime * 1000).toISOString());
  });
});
