// CORS on the token endpoints, as Entra answers a single-page app redeeming its code from the
// browser: the POST's answer, token or error, names the caller's origin so the page can read it;
// a preflight (OPTIONS) gets no CORS grant.
import { createHash, randomBytes } from 'node:crypto';
import { expectPage, expectRedirect, HttpBrowser } from '../support/http-browser';
import { REDIRECT_URI, seed, startTestAzure, type TestAzure } from '../support/harness';

const { contoso, contosoext, fabrikam } = seed;
const SPA = 'https://spa.contoso.example';
const SPA_APP = '6b0f2a47-9a33-4a36-9d43-2f6a1c3b8e51';
const HYBRID_APP = '9d2e4f61-7a3b-4c8d-9e1f-2a3b4c5d6e7f';
const HYBRID_SECRET = 'hybrid-dev-secret-3b7d9f1a2c';
const B2C_HYBRID_APP = '2c7e5a91-4b3d-4f6e-8a1c-7d9e0f1a2b3c';
let t: TestAzure;

beforeAll(async () => {
  t = await startTestAzure({
    // A single-page app (public client, "spa" reply URL) in the external tenant.
    adjust: (cfg) => {
      cfg.tenants
        .find((x) => x.name === 'contosoext')!
        .apps?.push({
          name: 'spa',
          displayName: 'SPA',
          clientId: SPA_APP,
          servicePrincipalId: '0c3e7a55-0f6e-4d1b-a4a4-6f3b9f1e2d77',
          publicClient: true,
          spaRedirectUris: [`${SPA}/`],
        });
      // A confidential app that also registers an SPA reply URL (web backend + SPA front end).
      cfg.tenants
        .find((x) => x.name === 'contosoext')!
        .apps?.push({
          name: 'hybrid',
          displayName: 'Hybrid',
          clientId: HYBRID_APP,
          servicePrincipalId: '3f4a2c19-5d7e-4b1a-8c6d-9e0f1a2b3c4d',
          secrets: [{ description: 'dev', value: HYBRID_SECRET }],
          spaRedirectUris: [`${SPA}/`],
        });
      // The same in the B2C tenant.
      cfg.tenants
        .find((x) => x.name === 'contoso')!
        .apps?.push({
          name: 'hybrid',
          displayName: 'Hybrid',
          clientId: B2C_HYBRID_APP,
          servicePrincipalId: '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9',
          secrets: [{ description: 'dev', value: HYBRID_SECRET }],
          spaRedirectUris: [`${SPA}/`],
        });
    },
  });
});
afterAll(async () => {
  await t.stop();
});

const tokenPaths = () => [
  `/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/token`,
  `/${fabrikam.id}/oauth2/v2.0/token`,
  `/${contoso.id}/oauth2/v2.0/token?p=b2c_1_signupsignin`,
];

describe('token endpoint CORS', () => {
  // Entra's token endpoint serves browsers simple requests only (MSAL.js sends nothing that needs
  // a preflight): a preflight gets no CORS grant, for any origin, so the browser refuses the
  // request after it.
  it.each([0, 1, 2])('gives a preflight no CORS grant (path %d)', async (i) => {
    const res = await fetch(`${t.azure.identityUrl}${tokenPaths()[i]}`, {
      method: 'OPTIONS',
      headers: {
        origin: SPA,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, client-request-id, x-client-sku',
      },
    });
    expect(res.status).toBe(200);
    for (const h of [
      'access-control-allow-origin',
      'access-control-allow-methods',
      'access-control-allow-headers',
      'access-control-allow-credentials',
      'access-control-max-age',
    ])
      expect(res.headers.get(h)).toBeNull();
    await res.arrayBuffer();
  });

  it('names the origin on the POST answer, errors included', async () => {
    const res = await fetch(`${t.azure.identityUrl}${tokenPaths()[1]}`, {
      method: 'POST',
      headers: { origin: SPA, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&client_id=00000000-0000-0000-0000-000000000000',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('access-control-allow-origin')).toBe(SPA);
    expect(((await res.json()) as { error: string }).error).toBeTruthy();
  });

  it('gives no CORS grant to a malformed origin, and never a 500', async () => {
    const preflight = await fetch(`${t.azure.identityUrl}${tokenPaths()[0]}`, {
      method: 'OPTIONS',
      headers: {
        origin: 'javascript:alert(1)',
        'access-control-request-headers': 'content-type;evil',
      },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(`${t.azure.identityUrl}${tokenPaths()[1]}`, {
      method: 'POST',
      headers: { origin: 'null', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code',
    });
    expect(post.status).toBe(400);
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('still refuses GET on the token endpoint, naming POST and OPTIONS', async () => {
    const res = await fetch(`${t.azure.identityUrl}${tokenPaths()[1]}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(
      /^AADSTS900561: The endpoint only accepts POST, OPTIONS requests/,
    );
  });

  describe('single-page app reply URLs (Entra AADSTS9002326 / 9002327)', () => {
    const token = `/${contosoext.id}/oauth2/v2.0/token`;
    /** Signs carol in for `clientId` at `redirectUri`; the code and its PKCE verifier. */
    async function code(clientId: string, redirectUri: string, pkce = true) {
      const verifier = randomBytes(32).toString('base64url');
      const browser = new HttpBrowser(t.azure.identityUrl);
      const url = `${t.azure.identityUrl}/${contosoext.id}/oauth2/v2.0/authorize?${new URLSearchParams(
        {
          client_id: clientId,
          redirect_uri: redirectUri,
          response_type: 'code',
          scope: 'openid offline_access',
          ...(pkce
            ? {
                code_challenge: createHash('sha256').update(verifier).digest('base64url'),
                code_challenge_method: 'S256',
              }
            : {}),
        },
      )}`;
      const back = expectRedirect(
        await browser.submit(expectPage(await browser.open(url)), {
          email: contosoext.carol.email,
          password: contosoext.carol.password,
        }),
      );
      return { code: back.searchParams.get('code') ?? '', verifier };
    }
    const redeem = (body: Record<string, string>, origin?: string) =>
      fetch(`${t.azure.identityUrl}${token}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(origin ? { origin } : {}),
        },
        body: new URLSearchParams(body).toString(),
      });

    it('redeems an SPA code only cross-origin, and then answers with CORS', async () => {
      const c = await code(SPA_APP, `${SPA}/`);
      const body = {
        grant_type: 'authorization_code',
        client_id: SPA_APP,
        code: c.code,
        redirect_uri: `${SPA}/`,
        code_verifier: c.verifier,
        scope: 'openid offline_access',
      };
      const server = await redeem(body);
      expect(server.status).toBe(400);
      expect(((await server.json()) as { error_description: string }).error_description).toMatch(
        /^AADSTS9002327: /,
      );
      // The refusal did not use the code up: the browser redeems it.
      const browser = await redeem(body, SPA);
      expect(browser.status).toBe(200);
      expect(browser.headers.get('access-control-allow-origin')).toBe(SPA);
      expect(((await browser.json()) as { id_token?: string }).id_token).toBeTruthy();
    });

    it('treats a cross-origin SPA redemption as a public client: no secret (AADSTS700025), PKCE required (AADSTS9002325)', async () => {
      const c = await code(HYBRID_APP, `${SPA}/`);
      const body = {
        grant_type: 'authorization_code',
        client_id: HYBRID_APP,
        code: c.code,
        redirect_uri: `${SPA}/`,
        code_verifier: c.verifier,
      };
      const withSecret = await redeem({ ...body, client_secret: HYBRID_SECRET }, SPA);
      expect(withSecret.status).toBe(401);
      expect(withSecret.headers.get('access-control-allow-origin')).toBe(SPA);
      const refused = (await withSecret.json()) as { error: string; error_description: string };
      expect(refused.error).toBe('invalid_client');
      expect(refused.error_description).toMatch(/^AADSTS700025: Client is public/);
      // Without the secret the browser redeems the confidential app's SPA code, as with MSAL.js.
      const browser = await redeem(body, SPA);
      expect(browser.status).toBe(200);
      expect(((await browser.json()) as { id_token?: string }).id_token).toBeTruthy();

      const spa = await code(SPA_APP, `${SPA}/`);
      const spaBody = { ...body, client_id: SPA_APP, code: spa.code, code_verifier: spa.verifier };
      const noVerifier = await redeem({ ...spaBody, code_verifier: '' }, SPA);
      expect(noVerifier.status).toBe(400);
      expect(
        ((await noVerifier.json()) as { error_description: string }).error_description,
      ).toMatch(/^AADSTS9002325: /);
      // The refusal did not use the code up.
      expect((await redeem(spaBody, SPA)).status).toBe(200);

      // A confidential app may leave PKCE out at /authorize, but then its SPA code, which the
      // browser redeems without the secret, is never redeemed: any verifier is refused.
      const bare = await code(HYBRID_APP, `${SPA}/`, false);
      const forged = await redeem({ ...body, code: bare.code, code_verifier: 'v'.repeat(43) }, SPA);
      expect(forged.status).toBe(400);
      expect(((await forged.json()) as { error_description: string }).error_description).toMatch(
        /^AADSTS9002325: /,
      );
    });

    describe("refresh tokens (Entra: SPA ones are the browser's and live 24 h, AADSTS700084)", () => {
      afterEach(() => jest.restoreAllMocks());
      /** Moves this process's clock (the stand-in runs in it) `seconds` ahead. */
      const advanceClock = (seconds: number) => {
        const now = Date.now();
        jest.spyOn(Date, 'now').mockReturnValue(now + seconds * 1000);
      };
      type TokenBody = {
        refresh_token?: string;
        id_token?: string;
        error?: string;
        error_description?: string;
        suberror?: string;
      };
      const refresh = async (body: Record<string, string>, origin?: string) => {
        const res = await redeem({ grant_type: 'refresh_token', ...body }, origin);
        return {
          status: res.status,
          cors: res.headers.get('access-control-allow-origin'),
          body: (await res.json()) as TokenBody,
        };
      };

      it("redeems a hybrid app's SPA refresh token from the browser without the secret, never server-side, and not past 24 h from the sign-in", async () => {
        const c = await code(HYBRID_APP, `${SPA}/`);
        const first = await redeem(
          {
            grant_type: 'authorization_code',
            client_id: HYBRID_APP,
            code: c.code,
            redirect_uri: `${SPA}/`,
            code_verifier: c.verifier,
          },
          SPA,
        );
        expect(first.status).toBe(200);
        const rt = ((await first.json()) as TokenBody).refresh_token ?? '';
        expect(rt).not.toBe('');

        // Server-side, even with the app's secret: the SPA's token is redeemed only cross-origin.
        const server = await refresh({
          client_id: HYBRID_APP,
          client_secret: HYBRID_SECRET,
          refresh_token: rt,
        });
        expect(server.status).toBe(400);
        expect(server.body.error_description).toMatch(/^AADSTS9002327: /);
        // From the browser it is a public client's: a secret there is refused...
        const withSecret = await refresh(
          { client_id: HYBRID_APP, client_secret: HYBRID_SECRET, refresh_token: rt },
          SPA,
        );
        expect(withSecret.status).toBe(401);
        expect(withSecret.body.error_description).toMatch(/^AADSTS700025: /);
        // ...and without one the browser gets tokens, readable cross-origin.
        const browser = await refresh(
          { client_id: HYBRID_APP, refresh_token: rt, scope: 'openid offline_access' },
          SPA,
        );
        expect(browser.status).toBe(200);
        expect(browser.cors).toBe(SPA);
        expect(browser.body.id_token).toBeTruthy();
        const next = browser.body.refresh_token ?? '';
        expect(next).not.toBe('');

        // The new refresh token keeps the first one's expiry: 23 h on it still works, past 24 h
        // neither does, with Entra's AADSTS700084.
        advanceClock(23 * 3600);
        const later = await refresh({ client_id: HYBRID_APP, refresh_token: next }, SPA);
        expect(later.status).toBe(200);
        const last = later.body.refresh_token ?? '';
        jest.restoreAllMocks();
        advanceClock(24 * 3600 + 5);
        const expired = await refresh({ client_id: HYBRID_APP, refresh_token: last }, SPA);
        expect(expired.status).toBe(400);
        expect(expired.body.error).toBe('invalid_grant');
        expect(expired.body.error_description).toMatch(
          /^AADSTS700084: The refresh token was issued to a single page app \(SPA\), and therefore has a fixed, limited lifetime of 1\.00:00:00/,
        );
        // As Entra marks it (msal-js#7033): MSAL drops a bad_token from its cache (msal-js#6757).
        expect(expired.body.suberror).toBe('bad_token');
      });

      it("still wants the secret for a confidential client's refresh token, and never takes it cross-origin", async () => {
        const c = await code(contosoext.portal.clientId, REDIRECT_URI);
        const first = await redeem({
          grant_type: 'authorization_code',
          client_id: contosoext.portal.clientId,
          client_secret: contosoext.portal.secret,
          code: c.code,
          redirect_uri: REDIRECT_URI,
          code_verifier: c.verifier,
        });
        expect(first.status).toBe(200);
        const rt = ((await first.json()) as TokenBody).refresh_token ?? '';
        expect(rt).not.toBe('');
        const id = contosoext.portal.clientId;

        const noSecret = await refresh({ client_id: id, refresh_token: rt });
        expect(noSecret.status).toBe(401);
        expect(noSecret.body.error_description).toMatch(/^AADSTS7000218: /);
        const browserNoSecret = await refresh({ client_id: id, refresh_token: rt }, SPA);
        expect(browserNoSecret.status).toBe(401);
        expect(browserNoSecret.body.error_description).toMatch(/^AADSTS7000218: /);
        const browserWithSecret = await refresh(
          { client_id: id, client_secret: contosoext.portal.secret, refresh_token: rt },
          SPA,
        );
        expect(browserWithSecret.status).toBe(400);
        expect(browserWithSecret.body.error_description).toMatch(/^AADSTS9002326: /);
        expect(browserWithSecret.cors).toBeNull();
        // Its lifetime is not the SPA's: a day later the server still redeems it.
        advanceClock(24 * 3600 + 5);
        const server = await refresh({
          client_id: id,
          client_secret: contosoext.portal.secret,
          refresh_token: rt,
        });
        expect(server.status).toBe(200);
        expect(server.body.refresh_token).toBeTruthy();

        // Unused for its 90 days, it has expired (AADSTS700082), a bad_token too.
        jest.restoreAllMocks();
        advanceClock(92 * 24 * 3600);
        const stale = await refresh({
          client_id: id,
          client_secret: contosoext.portal.secret,
          refresh_token: server.body.refresh_token ?? '',
        });
        expect(stale.status).toBe(400);
        expect(stale.body.error_description).toMatch(/^AADSTS700082: /);
        expect(stale.body.suberror).toBe('bad_token');
      });

      it('does the same at a B2C user flow, whose refresh_token_expires_in counts down from 24 h', async () => {
        const flow = '/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0';
        const verifier = randomBytes(32).toString('base64url');
        const browser = new HttpBrowser(t.azure.identityUrl);
        const authorize = `${t.azure.identityUrl}${flow}/authorize?${new URLSearchParams({
          client_id: B2C_HYBRID_APP,
          redirect_uri: `${SPA}/`,
          response_type: 'code',
          scope: 'openid offline_access',
          code_challenge: createHash('sha256').update(verifier).digest('base64url'),
          code_challenge_method: 'S256',
        })}`;
        const back = expectRedirect(
          await browser.submit(expectPage(await browser.open(authorize)), {
            email: contoso.alice.email,
            password: contoso.alice.password,
          }),
        );
        const post = async (body: Record<string, string>, origin?: string) => {
          const res = await fetch(`${t.azure.identityUrl}${flow}/token`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              ...(origin ? { origin } : {}),
            },
            body: new URLSearchParams(body).toString(),
          });
          return {
            status: res.status,
            body: (await res.json()) as TokenBody & { refresh_token_expires_in?: number },
          };
        };
        const first = await post(
          {
            grant_type: 'authorization_code',
            client_id: B2C_HYBRID_APP,
            code: back.searchParams.get('code') ?? '',
            redirect_uri: `${SPA}/`,
            code_verifier: verifier,
          },
          SPA,
        );
        expect(first.status).toBe(200);
        expect(first.body.refresh_token_expires_in).toBeLessThanOrEqual(86400);
        expect(first.body.refresh_token_expires_in).toBeGreaterThan(86000);
        const rt = first.body.refresh_token ?? '';

        const server = await post({
          grant_type: 'refresh_token',
          client_id: B2C_HYBRID_APP,
          client_secret: HYBRID_SECRET,
          refresh_token: rt,
        });
        expect(server.status).toBe(400);
        expect(server.body.error_description).toMatch(/^AADSTS9002327: /);

        advanceClock(3600);
        const browserRefresh = await post(
          { grant_type: 'refresh_token', client_id: B2C_HYBRID_APP, refresh_token: rt },
          SPA,
        );
        expect(browserRefresh.status).toBe(200);
        // An hour later the new token has an hour less: the lifetime is the sign-in's.
        expect(browserRefresh.body.refresh_token_expires_in).toBeLessThanOrEqual(86400 - 3600);
        expect(browserRefresh.body.refresh_token_expires_in).toBeGreaterThan(86000 - 3600);
      });
    });

    it('refuses a cross-origin redemption of a web reply URL code, without a CORS grant', async () => {
      const c = await code(contosoext.portal.clientId, REDIRECT_URI);
      const res = await redeem(
        {
          grant_type: 'authorization_code',
          client_id: contosoext.portal.clientId,
          client_secret: contosoext.portal.secret,
          code: c.code,
          redirect_uri: REDIRECT_URI,
          code_verifier: c.verifier,
        },
        SPA,
      );
      expect(res.status).toBe(400);
      // No CORS grant on this refusal: in a browser the page sees a CORS failure, as MS Learn
      // shows for a code whose reply URL is not an SPA's; other callers read the error.
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(((await res.json()) as { error_description: string }).error_description).toMatch(
        /^AADSTS9002326: Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type\. Request origin: 'https:\/\/spa\.contoso\.example'/,
      );
    });
  });
});
