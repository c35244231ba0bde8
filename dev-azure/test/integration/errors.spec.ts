// Error behaviour: Entra-shaped JSON with AADSTS codes for bad credentials,
// assertions and federated tokens; B2C codes on user-flow pages; and no 500
// for any malformed input.
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { createClientCert, type ClientCert } from '../support/certs';
import { REDIRECT_URI, seed, startTestAzure, type TestAzure } from '../support/harness';

const { fabrikam, contoso, contosoext } = seed;
const CERT_APP = {
  clientId: '0b7f5e8a-2c4d-4b6e-8f1a-3c5d7e9f1a2b',
  oid: '1c8a6f9b-3d5e-4c7f-9a2b-4d6e8f0a2b3c',
};
const SPA = {
  clientId: '4f1d9c2e-6a8b-4f0c-8d5e-7a9b1c3d5e6f',
  oid: '5a2e0d3f-7b9c-4a1d-9e6f-8b0c2d4e6f7a',
};
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let t: TestAzure;
let cert: ClientCert;
let otherCert: ClientCert;
let tokenUrl: string;

beforeAll(async () => {
  [cert, otherCert] = await Promise.all([
    createClientCert('errors-app'),
    createClientCert('unregistered'),
  ]);
  t = await startTestAzure({
    adjust: (cfg) => {
      cfg.tenants
        .find((x) => x.name === 'fabrikam')
        ?.apps?.push({
          name: 'errors-app',
          displayName: 'Assertion tests',
          clientId: CERT_APP.clientId,
          servicePrincipalId: CERT_APP.oid,
          certificates: [{ pem: cert.certPem }],
          grantedAppRoles: [{ resource: 'scim', roles: ['Scim.Admin'] }],
        });
      cfg.tenants
        .find((x) => x.name === 'contoso')
        ?.apps?.push({
          name: 'spa',
          displayName: 'Public client (test)',
          clientId: SPA.clientId,
          servicePrincipalId: SPA.oid,
          publicClient: true,
          redirectUris: ['http://localhost/spa'],
          apiPermissions: [{ resource: 'policy-api', scopes: ['Accounts.Read'] }],
        });
    },
  });
  tokenUrl = `${t.azure.identityUrl}/${fabrikam.id}/oauth2/v2.0/token`;
});
afterAll(async () => {
  await t.stop();
});

async function post(
  url: string,
  body: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, contentType: res.headers.get('content-type') ?? '' };
}

async function assertion(
  o: {
    claims?: JWTPayload;
    alg?: 'PS256' | 'RS256';
    signWith?: ClientCert;
    header?: Record<string, unknown>;
  } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const signer = o.signWith ?? cert;
  return new SignJWT({
    aud: tokenUrl,
    iss: CERT_APP.clientId,
    sub: CERT_APP.clientId,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + 600,
    ...o.claims,
  })
    .setProtectedHeader({
      alg: o.alg ?? 'PS256',
      typ: 'JWT',
      'x5t#S256': cert.x5tS256,
      ...o.header,
    })
    .sign(signer.privateKey);
}

function assertionBody(a: string, clientId = CERT_APP.clientId) {
  return {
    grant_type: 'client_credentials',
    client_id: clientId,
    scope: 'api://scim/.default',
    client_assertion_type: JWT_BEARER,
    client_assertion: a,
  };
}

function description(r: { json: Record<string, unknown> }): string {
  return String(r.json.error_description ?? '');
}

describe('Entra-shaped errors at the token endpoint', () => {
  it('bad client secret: 401 invalid_client AADSTS7000215 with trace and correlation ids', async () => {
    const correlation = randomUUID();
    const r = await post(
      tokenUrl,
      {
        grant_type: 'client_credentials',
        client_id: fabrikam.scimAdmin.clientId,
        client_secret: 'not-the-secret-at-all',
        scope: 'api://scim/.default',
      },
      { 'client-request-id': correlation },
    );
    expect(r.status).toBe(401);
    expect(r.contentType).toMatch(/^application\/json/);
    expect(r.json).toMatchObject({
      error: 'invalid_client',
      error_codes: [7000215],
      correlation_id: correlation,
    });
    expect(description(r)).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(description(r)).toContain(`Correlation ID: ${correlation}`);
    expect(String(r.json.trace_id)).toMatch(GUID);
    expect(String(r.json.timestamp)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  });

  it.each([
    [
      'unknown tenant',
      () => `${t.azure.identityUrl}/nosuchtenant/oauth2/v2.0/token`,
      { grant_type: 'client_credentials' },
      400,
      'AADSTS90002',
    ],
    [
      'unknown app',
      () => tokenUrl,
      {
        grant_type: 'client_credentials',
        client_id: randomUUID(),
        client_secret: 'x'.repeat(20),
        scope: 'api://scim/.default',
      },
      400,
      'AADSTS700016',
    ],
    [
      'missing grant_type',
      () => tokenUrl,
      { client_id: fabrikam.scimAdmin.clientId },
      400,
      'AADSTS900144',
    ],
    [
      'missing credential',
      () => tokenUrl,
      {
        grant_type: 'client_credentials',
        client_id: fabrikam.scimAdmin.clientId,
        scope: 'api://scim/.default',
      },
      401,
      'AADSTS7000218',
    ],
    [
      'scope without /.default',
      () => tokenUrl,
      {
        grant_type: 'client_credentials',
        client_id: fabrikam.scimAdmin.clientId,
        client_secret: fabrikam.scimAdmin.secret,
        scope: 'api://scim/Scim.Admin',
      },
      400,
      'AADSTS1002012',
    ],
    [
      'unknown resource',
      () => tokenUrl,
      {
        grant_type: 'client_credentials',
        client_id: fabrikam.scimAdmin.clientId,
        client_secret: fabrikam.scimAdmin.secret,
        scope: 'api://nothing/.default',
      },
      400,
      'AADSTS500011',
    ],
    [
      'unsupported grant',
      () => tokenUrl,
      { grant_type: 'password', client_id: fabrikam.scimAdmin.clientId },
      400,
      'AADSTS70003',
    ],
  ])('%s', async (_name, url, body, status, code) => {
    const r = await post(url(), body);
    expect(r.status).toBe(status);
    expect(description(r)).toMatch(new RegExp(`^${code}: `));
    expect(r.json.error_codes).toEqual([Number(code.slice(6))]);
  });

  it('reads form bodies only and wants GUID client ids', async () => {
    const json = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: fabrikam.scimAdmin.clientId,
      }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error_description: string }).error_description).toMatch(
      /^AADSTS900144: .*'grant_type'/,
    );
    const notGuid = await post(tokenUrl, {
      grant_type: 'client_credentials',
      client_id: 'scim-admin',
      client_secret: 'x'.repeat(20),
      scope: 'api://scim/.default',
    });
    expect(description(notGuid)).toMatch(/^AADSTS700038:/);
  });

  it('GET on the token endpoint: AADSTS900561', async () => {
    const res = await fetch(tokenUrl);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(
      /^AADSTS900561:/,
    );
  });

  it('PUT, PATCH and DELETE on token endpoints: AADSTS900561 naming the method', async () => {
    const b2cToken = `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/token`;
    for (const url of [tokenUrl, b2cToken]) {
      for (const method of ['PUT', 'PATCH', 'DELETE']) {
        const res = await fetch(url, {
          method,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        });
        expect({ method, status: res.status }).toEqual({ method, status: 400 });
        const body = (await res.json()) as { error: string; error_description: string };
        expect(body.error).toBe('invalid_request');
        expect(body.error_description).toMatch(
          new RegExp(
            `^AADSTS900561: The endpoint only accepts POST, OPTIONS requests\\. Received a ${method} request\\.`,
          ),
        );
      }
    }
  });
});

describe('client assertions (private_key_jwt)', () => {
  it('accepts PS256 and RS256, x5t#S256 and x5t; refuses a replayed assertion', async () => {
    const a = await assertion();
    expect((await post(tokenUrl, assertionBody(a))).status).toBe(200);
    const replay = await post(tokenUrl, assertionBody(a));
    expect(replay.status).toBe(401);
    expect(description(replay)).toMatch(/^AADSTS50013: .*already used/);

    expect((await post(tokenUrl, assertionBody(await assertion({ alg: 'RS256' })))).status).toBe(
      200,
    );
    const sha1 = await assertion({ header: { 'x5t#S256': undefined, x5t: cert.x5t } });
    expect((await post(tokenUrl, assertionBody(sha1))).status).toBe(200);
  });

  it('refuses a forged signature, an unknown certificate, bad times, audience and claims', async () => {
    const forged = await post(tokenUrl, assertionBody(await assertion({ signWith: otherCert })));
    expect(forged.status).toBe(401);
    expect(description(forged)).toMatch(
      /^AADSTS700027: Client assertion failed signature validation\./,
    );

    const unknownCert = await post(
      tokenUrl,
      assertionBody(
        await assertion({ signWith: otherCert, header: { 'x5t#S256': otherCert.x5tS256 } }),
      ),
    );
    expect(description(unknownCert)).toMatch(/^AADSTS700027:/);

    const now = Math.floor(Date.now() / 1000);
    const tooLong = await post(
      tokenUrl,
      assertionBody(await assertion({ claims: { exp: now + 7200 } })),
    );
    expect(tooLong.status).toBe(401);
    expect(description(tooLong)).toMatch(/^AADSTS700024:/);
    const expired = await post(
      tokenUrl,
      assertionBody(
        await assertion({ claims: { nbf: now - 3600, iat: now - 3600, exp: now - 1800 } }),
      ),
    );
    expect(description(expired)).toMatch(/^AADSTS700024:/);

    const wrongAud = await post(
      tokenUrl,
      assertionBody(
        await assertion({
          claims: { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' },
        }),
      ),
    );
    expect(wrongAud.status).toBe(401);
    expect(description(wrongAud)).toMatch(/^AADSTS50013: Assertion audience/);

    const noJti = await post(
      tokenUrl,
      assertionBody(await assertion({ claims: { jti: undefined } })),
    );
    expect(description(noJti)).toMatch(/^AADSTS50027:/);

    const wrongSub = await post(
      tokenUrl,
      assertionBody(await assertion({ claims: { sub: randomUUID() } })),
    );
    expect(description(wrongSub)).toMatch(/^AADSTS700021:/);

    const garbage = await post(tokenUrl, assertionBody('not.a.jwt'));
    expect(garbage.status).toBe(401);
    expect(description(garbage)).toMatch(/^AADSTS50027:/);
  });
});

describe('federated credentials (workload identity)', () => {
  const fed = (a: string) => ({
    ...assertionBody(a, fabrikam.tokenBroker.clientId),
    scope: 'https://vault.azure.net/.default',
  });

  it('AADSTS70021 for a subject with no federated credential', async () => {
    const token = t.azure.clusterIssuer.mintServiceAccountToken(
      'identity-platform',
      'someone-else',
    );
    const r = await post(tokenUrl, fed(token));
    expect(r.status).toBe(400);
    expect(description(r)).toMatch(
      /^AADSTS70021: No matching federated identity record found for presented assertion\./,
    );
    expect(description(r)).toContain(
      "Assertion Subject: 'system:serviceaccount:identity-platform:someone-else'",
    );
  });

  it('AADSTS700212 for a wrong audience, AADSTS700211 for an unknown issuer, AADSTS700027 for a bad signature', async () => {
    const wrongAud = await post(
      tokenUrl,
      fed(
        t.azure.clusterIssuer.mintServiceAccountToken('identity-platform', 'token-broker', {
          audiences: ['api://other'],
        }),
      ),
    );
    expect(description(wrongAud)).toMatch(/^AADSTS700212:/);

    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({
      iss: 'https://issuer.invalid/',
      sub: 'system:serviceaccount:identity-platform:token-broker',
      aud: ['api://AzureADTokenExchange'],
      iat: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .sign(privateKey);
    expect(description(await post(tokenUrl, fed(foreign)))).toMatch(/^AADSTS700211:/);

    const good = t.azure.clusterIssuer.mintServiceAccountToken('identity-platform', 'token-broker');
    const [h, p] = good.split('.');
    const tampered = `${h}.${p}.${randomBytes(256).toString('base64url')}`;
    expect(description(await post(tokenUrl, fed(tampered)))).toMatch(/^AADSTS700027:/);
    expect((await post(tokenUrl, fed(good))).status).toBe(200);
  });
});

describe('B2C authorize errors', () => {
  const authorize = (params: Record<string, string>) =>
    fetch(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/authorize?${new URLSearchParams(params)}`,
      { redirect: 'manual' },
    );
  const base = {
    client_id: contoso.portal.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid',
    state: 's1',
  };

  it('shows AADB2C90006 for an unregistered redirect URI instead of redirecting', async () => {
    const res = await authorize({ ...base, redirect_uri: 'https://evil.example/cb' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('AADB2C90006');
  });

  it("refuses an unknown prompt (and External ID's create) with AADB2C90043 at the redirect URI", async () => {
    for (const prompt of ['bogus', 'create', 'login consent', 'LOGIN', 'none login']) {
      const res = await authorize({ ...base, prompt });
      const loc = new URL(res.headers.get('location') ?? '');
      expect({ prompt, at: `${loc.origin}${loc.pathname}` }).toEqual({ prompt, at: REDIRECT_URI });
      expect(loc.searchParams.get('error')).toBe('invalid_request');
      expect(loc.searchParams.get('error_description')).toMatch(/^AADB2C90043: /);
      expect(loc.searchParams.get('state')).toBe('s1');
    }
    for (const prompt of ['login', 'consent', 'select_account']) {
      const res = await authorize({ ...base, prompt });
      expect({ prompt, location: res.headers.get('location') }).toEqual({
        prompt,
        location: expect.stringContaining('/ui/signin') as unknown,
      });
    }
  });

  it('accepts any port for a registered localhost redirect URI', async () => {
    const res = await authorize({ ...base, redirect_uri: 'https://localhost:3999/auth/redirect' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toContain('/ui/signin');
  });

  it('returns other errors to the redirect URI with the state', async () => {
    const implicit = await authorize({ ...base, response_type: 'token' });
    const loc = new URL(implicit.headers.get('location') ?? '');
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT_URI);
    // An implicit request's answer (its error too) comes back in the fragment (RFC 6749 §4.2.2.1).
    const fragment = new URLSearchParams(loc.hash.slice(1));
    expect(fragment.get('error')).toBe('unsupported_response_type');
    expect(fragment.get('error_description')).toMatch(/^AADB2C90057:/);
    expect(fragment.get('state')).toBe('s1');

    const twoResources = await authorize({
      ...base,
      scope: `openid api://policy-api/Accounts.Read ${contoso.portal.clientId}`,
    });
    expect(
      new URL(twoResources.headers.get('location') ?? '').searchParams.get('error_description'),
    ).toMatch(/^AADB2C90146:/);

    const none = await authorize({ ...base, prompt: 'none' });
    expect(new URL(none.headers.get('location') ?? '').searchParams.get('error')).toBe(
      'login_required',
    );
  });
});

describe('response_mode with a token in the response', () => {
  const authorize = (tenantPath: string, params: Record<string, string>) =>
    fetch(
      `${t.azure.identityUrl}${tenantPath}/oauth2/v2.0/authorize?${new URLSearchParams(params)}`,
      {
        redirect: 'manual',
      },
    );
  const cases = [
    {
      tenantPath: '/contoso.onmicrosoft.com/b2c_1_signupsignin',
      clientId: contoso.portal.clientId,
      code: /^The response_mode 'query' is not supported/,
    },
    {
      tenantPath: `/${contosoext.id}`,
      clientId: contosoext.portal.clientId,
      code: /^AADSTS70007: The application requested an unsupported mode 'query'/,
    },
  ];

  it.each(cases)(
    'refuses response_mode=query for code id_token, answering in the fragment ($tenantPath)',
    async ({ tenantPath, clientId, code }) => {
      const res = await authorize(tenantPath, {
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code id_token',
        response_mode: 'query',
        scope: 'openid',
        nonce: 'n1',
        state: 's2',
      });
      expect(res.status).toBe(302);
      const loc = new URL(res.headers.get('location') ?? '');
      expect(`${loc.origin}${loc.pathname}${loc.search}`).toBe(REDIRECT_URI);
      const fragment = new URLSearchParams(loc.hash.slice(1));
      expect(fragment.get('error')).toBe('invalid_request');
      expect(fragment.get('error_description')).toMatch(code);
      expect(fragment.get('state')).toBe('s2');
    },
  );

  it.each(cases)(
    'sends errors of a code id_token request without response_mode by fragment ($tenantPath)',
    async ({ tenantPath, clientId }) => {
      // No nonce: refused, and the refusal must not land in the query string either.
      const res = await authorize(tenantPath, {
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code id_token',
        scope: 'openid',
        state: 's3',
      });
      const loc = new URL(res.headers.get('location') ?? '');
      expect(loc.search).toBe('');
      expect(new URLSearchParams(loc.hash.slice(1)).get('error')).toBe('invalid_request');
    },
  );
});

describe('PKCE for public clients', () => {
  const authorize = (params: Record<string, string>) =>
    fetch(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/authorize?${new URLSearchParams(
        {
          client_id: SPA.clientId,
          redirect_uri: 'http://localhost:5173/spa',
          response_type: 'code',
          scope: 'openid api://policy-api/Accounts.Read',
          state: 'p1',
          ...params,
        },
      )}`,
      { redirect: 'manual' },
    );

  it('requires a code_challenge with S256', async () => {
    const refused: Record<string, string>[] = [
      {},
      { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' },
    ];
    for (const params of refused) {
      const loc = new URL((await authorize(params)).headers.get('location') ?? '');
      expect(loc.searchParams.get('error')).toBe('invalid_request');
      expect(loc.searchParams.get('error_description')).toMatch(/^AADB2C90183:/);
      expect(loc.searchParams.get('state')).toBe('p1');
    }
    const ok = await authorize({ code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
    expect(ok.headers.get('location')).toContain('/ui/signin');
  });

  it('refuses credentials from a public client', async () => {
    const r = await post(
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/token`,
      {
        grant_type: 'authorization_code',
        client_id: SPA.clientId,
        client_secret: 'x'.repeat(20),
        code: 'x',
        redirect_uri: 'http://localhost:5173/spa',
      },
    );
    expect(r.status).toBe(401);
    expect(description(r)).toMatch(/^AADSTS700025:/);
  });
});

describe('malformed input never yields a 500', () => {
  it('survives a burst of garbage requests', async () => {
    const id = t.azure.identityUrl;
    const paths = [
      `/${fabrikam.id}/oauth2/v2.0/token`,
      '/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/token',
      '/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/authorize',
      '/contoso.onmicrosoft.com/b2c_1_signupsignin/oauth2/v2.0/logout',
      '/contoso.onmicrosoft.com/b2c_1_signupsignin/ui/signin?tx=x',
      `/${fabrikam.id}/v2.0/.well-known/openid-configuration`,
      '/%E0%A4%A/v2.0/.well-known/openid-configuration',
      '/contoso.onmicrosoft.com/oauth2/v2.0/token?p=%00',
      '/local/.well-known/openid-configuration',
      `/${'a'.repeat(600)}/oauth2/v2.0/token`,
    ];
    const bodies: (() => { type: string; body: string })[] = [
      () => ({
        type: 'application/x-www-form-urlencoded',
        body: randomBytes(64).toString('latin1'),
      }),
      () => ({
        type: 'application/x-www-form-urlencoded',
        body: 'grant_type=client_credentials&grant_type=client_credentials&client_id=%ZZ',
      }),
      () => ({
        type: 'application/x-www-form-urlencoded',
        body: `grant_type=authorization_code&client_id=${contoso.portal.clientId}&client_secret=${contoso.portal.secret}&code=${randomBytes(30).toString('hex')}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
      }),
      () => ({
        type: 'application/x-www-form-urlencoded',
        body: `grant_type=refresh_token&client_id=${contoso.portal.clientId}&client_secret=${contoso.portal.secret}&refresh_token=${'x'.repeat(5000)}&scope=${encodeURIComponent('openid api://policy-api/Nope')}`,
      }),
      () => ({
        type: 'application/x-www-form-urlencoded',
        body: `grant_type=client_credentials&client_id=${CERT_APP.clientId}&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.AA&scope=x`,
      }),
      () => ({ type: 'application/json', body: '{"grant_type":' }),
      () => ({ type: 'application/json', body: '["client_credentials"]' }),
      () => ({ type: 'text/plain', body: 'hello' }),
      () => ({ type: 'application/octet-stream', body: randomBytes(100).toString('base64') }),
      () => ({ type: 'multipart/form-data; boundary=x', body: '--x\r\n\r\n--x--' }),
    ];
    const statuses = new Set<number>();
    for (const p of paths) {
      for (const make of bodies) {
        const { type, body } = make();
        for (const method of ['POST', 'GET', 'PUT']) {
          const res = await fetch(`${id}${p}`, {
            method,
            redirect: 'manual',
            headers: { 'content-type': type },
            body: method === 'GET' ? undefined : body,
          });
          await res.arrayBuffer();
          statuses.add(res.status);
          if (res.status >= 500) throw new Error(`${method} ${p} (${type}) -> ${res.status}`);
        }
      }
    }
    expect([...statuses].every((s) => s < 500)).toBe(true);
  });

  it("answers URLs the router refuses (bad percent-encoding, an overlong segment) with Entra's error body", async () => {
    const id = t.azure.identityUrl;
    const correlation = randomUUID();
    for (const path of [
      '/%ff/oauth2/v2.0/token',
      '/%E0%A4%A/v2.0/.well-known/openid-configuration',
      `/${'a'.repeat(600)}/oauth2/v2.0/token`,
      `/contoso.onmicrosoft.com/${'b'.repeat(300)}/oauth2/v2.0/authorize`,
    ]) {
      const res = await fetch(`${id}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'client-request-id': correlation,
        },
        body: 'grant_type=client_credentials',
      });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      const json = (await res.json()) as Record<string, unknown>;
      expect(json).toMatchObject({
        error: 'invalid_request',
        error_codes: [9002313],
        correlation_id: correlation,
        trace_id: expect.stringMatching(GUID),
        timestamp: expect.any(String),
      });
      expect(description({ json })).toMatch(/^AADSTS9002313: /);
    }
  });

  it("answers what Node's HTTP parser refuses (a 20 kB URL, a malformed header) with Entra's error body", async () => {
    const url = new URL(t.azure.identityUrl);
    const long = await fetch(
      `${t.azure.identityUrl}/${fabrikam.id}/v2.0/.well-known/openid-configuration?state=${'x'.repeat(20_000)}`,
    );
    expect(long.status).toBe(431);
    const json = (await long.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ error: 'invalid_request', error_codes: [90015] });
    expect(description({ json })).toMatch(/^AADSTS90015: Requested query string is too long\./);

    // Raw HTTP (fetch will not send a header line without a colon).
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: url.hostname, port: Number(url.port) }, () => {
        socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n');
      });
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString('utf8')));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'invalid_request', error_codes: [9002313] });
  });
});
