// Key Vault stand-in: the keys interface through the real SDKs (challenge auth, getKey, sign
// with RS/PS 256/384/512), RBAC refusals and the protocol's error shapes.
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { createHash, createPublicKey, verify as nodeVerify, constants } from 'node:crypto';
import {
  API,
  credentialFor,
  devClientOptions,
  newClient,
  rawRequest,
  startVaultFixture,
  TENANT_ID,
  type VaultFixture,
} from '../support/keyvault-harness';

describe('Key Vault stand-in: keys', () => {
  const crypto = newClient();
  const officer = newClient();
  const nobody = newClient();
  const scoped = newClient();
  const reader = newClient();
  let fx: VaultFixture;

  beforeAll(async () => {
    fx = await startVaultFixture(
      [crypto, officer, nobody, scoped, reader],
      [
        { principalId: crypto.clientId, role: 'Key Vault Crypto User' },
        { principalId: officer.oid, role: 'Key Vault Certificates Officer' },
        { principalId: scoped.clientId, role: 'Key Vault Crypto User', scope: 'keys/rsa-signer' },
        // Upper-case on purpose: GUIDs compare case-insensitively.
        { principalId: reader.clientId.toUpperCase(), role: 'Key Vault Reader' },
      ],
      {
        seedCertificates: [
          { name: 'rsa-signer', subject: 'CN=rsa-signer' },
          { name: 'other-signer', subject: 'CN=other-signer' },
        ],
      },
    );
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('answers an unauthenticated request with the bearer challenge the SDK expects', async () => {
    const res = await rawRequest(`${fx.vault.url}/keys/rsa-signer?${API}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer authorization="${fx.issuer.url}/${TENANT_ID}", resource="https://vault.azure.net"`,
    );
    expect(res.body).toEqual({
      error: {
        code: 'Unauthorized',
        message: 'AKV10000: Request is missing a Bearer or PoP token.',
      },
    });
  });

  it('challenges an unauthenticated POST with an empty JSON body (the SDK strips the body until it has a token)', async () => {
    const res = await fetch(
      `${fx.vault.url}/keys/rsa-signer/00000000000000000000000000000000/sign?${API}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('resource="https://vault.azure.net"');
  });

  it('gets a key as a public JWK and signs PS256 through CryptographyClient, verified by node:crypto', async () => {
    const credential = credentialFor(fx.issuer, crypto);
    const keys = new KeyClient(fx.vault.url, credential, devClientOptions);
    const key = await keys.getKey('rsa-signer');
    expect(key.keyType).toBe('RSA');
    expect(key.keyOperations).toEqual(expect.arrayContaining(['sign', 'verify']));
    expect(key.properties.enabled).toBe(true);
    expect(key.properties.exportable).toBe(false);
    expect(key.key?.d).toBeUndefined();
    expect(key.id).toMatch(new RegExp(`^${fx.vault.url}/keys/rsa-signer/[0-9a-f]{32}$`));

    const client = new CryptographyClient(key.id!, credential, devClientOptions);
    const message = Buffer.from('header.payload of a client assertion');
    const digest = createHash('sha256').update(message).digest();
    const before = fx.vault.stats().signCount;
    const signed = await client.sign('PS256', digest);
    expect(signed.keyID).toBe(key.id);
    expect(fx.vault.stats().signCount).toBe(before + 1);

    const publicKey = createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(key.key!.n!).toString('base64url'),
        e: Buffer.from(key.key!.e!).toString('base64url'),
      },
      format: 'jwk',
    });
    expect(
      nodeVerify(
        'sha256',
        message,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        signed.result,
      ),
    ).toBe(true);
    const tampered = Buffer.from(signed.result);
    tampered[10] = (tampered[10] ?? 0) ^ 0xff;
    expect(
      nodeVerify(
        'sha256',
        message,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        tampered,
      ),
    ).toBe(false);
  });

  it('signs RS256 (PKCS#1 v1.5 over the DigestInfo), and refuses EC algorithms (RSA keys only)', async () => {
    const credential = credentialFor(fx.issuer, crypto);
    const keys = new KeyClient(fx.vault.url, credential, devClientOptions);
    const message = Buffer.from('another assertion');
    const digest = createHash('sha256').update(message).digest();

    const rsa = await keys.getKey('rsa-signer');
    const rsaClient = new CryptographyClient(rsa.id!, credential, devClientOptions);
    const rs = await rsaClient.sign('RS256', digest);
    const rsaPublic = createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(rsa.key!.n!).toString('base64url'),
        e: Buffer.from(rsa.key!.e!).toString('base64url'),
      },
      format: 'jwk',
    });
    expect(nodeVerify('sha256', message, rsaPublic, rs.result)).toBe(true);
    await expect(rsaClient.sign('ES256', digest)).rejects.toMatchObject({
      statusCode: 400,
      code: 'BadParameter',
    });
  });

  it('signs every RSA algorithm over its digest (RS/PS 256/384/512), each verified by node:crypto', async () => {
    const credential = credentialFor(fx.issuer, crypto);
    const rsa = await new KeyClient(fx.vault.url, credential, devClientOptions).getKey(
      'rsa-signer',
    );
    const client = new CryptographyClient(rsa.id!, credential, devClientOptions);
    const publicKey = createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(rsa.key!.n!).toString('base64url'),
        e: Buffer.from(rsa.key!.e!).toString('base64url'),
      },
      format: 'jwk',
    });
    const message = Buffer.from('all algorithms');
    for (const [alg, hash, hLen] of [
      ['RS256', 'sha256', 32],
      ['RS384', 'sha384', 48],
      ['RS512', 'sha512', 64],
      ['PS256', 'sha256', 32],
      ['PS384', 'sha384', 48],
      ['PS512', 'sha512', 64],
    ] as const) {
      const { result } = await client.sign(alg, createHash(hash).update(message).digest());
      const key = alg.startsWith('PS')
        ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hLen }
        : publicKey;
      expect({ alg, ok: nodeVerify(hash, message, key, result) }).toEqual({ alg, ok: true });
    }
  });

  it('signs with a versionless kid (the current version), as Key Vault does', async () => {
    const credential = credentialFor(fx.issuer, crypto);
    const current = await new KeyClient(fx.vault.url, credential, devClientOptions).getKey(
      'rsa-signer',
    );
    const client = new CryptographyClient(
      `${fx.vault.url}/keys/rsa-signer`,
      credential,
      devClientOptions,
    );
    const digest = createHash('sha256').update('versionless').digest();
    const signed = await client.sign('RS256', digest);
    expect(signed.keyID).toBe(current.id);
    const publicKey = createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(current.key!.n!).toString('base64url'),
        e: Buffer.from(current.key!.e!).toString('base64url'),
      },
      format: 'jwk',
    });
    expect(nodeVerify('sha256', Buffer.from('versionless'), publicKey, signed.result)).toBe(true);
  });

  it('refuses to sign for a principal without Key Vault Crypto User, with Azure RBAC 403 body', async () => {
    const key = await new KeyClient(
      fx.vault.url,
      credentialFor(fx.issuer, crypto),
      devClientOptions,
    ).getKey('rsa-signer');
    const client = new CryptographyClient(
      key.id!,
      credentialFor(fx.issuer, nobody),
      devClientOptions,
    );
    const digest = createHash('sha256').update('x').digest();
    await expect(client.sign('PS256', digest)).rejects.toMatchObject({
      statusCode: 403,
      code: 'Forbidden',
    });

    const token = await fx.issuer.mint(officer);
    const res = await rawRequest(`${key.id}/sign?${API}`, {
      method: 'POST',
      token,
      body: JSON.stringify({ alg: 'PS256', value: digest.toString('base64url') }),
    });
    expect(res.status).toBe(403);
    const body = res.body as {
      error: { code: string; message: string; innererror: { code: string } };
    };
    expect(body.error.code).toBe('Forbidden');
    expect(body.error.innererror).toEqual({ code: 'ForbiddenByRbac' });
    expect(body.error.message).toMatch(/^Caller is not authorized to perform action on resource/);
    expect(body.error.message).toContain("Action: 'Microsoft.KeyVault/vaults/keys/sign/action'");
    expect(body.error.message).not.toContain(token);
  });

  it("authorizes a delegated (user) token as its user, not with the client app's role", async () => {
    const digest = createHash('sha256').update('u').digest().toString('base64url');
    const userToken = await fx.issuer.mint(crypto, {
      scp: 'user_impersonation',
      oid: '6f1e0c9a-2b7d-4c55-9a61-0d8f3e2b7c41',
      sub: 'user-subject',
    });
    const res = await rawRequest(`${fx.vault.url}/keys/rsa-signer/sign?${API}`, {
      method: 'POST',
      token: userToken,
      body: JSON.stringify({ alg: 'PS256', value: digest }),
    });
    expect(res.status).toBe(403);
    expect((res.body as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'Forbidden',
      message: expect.stringContaining('oid=6f1e0c9a-2b7d-4c55-9a61-0d8f3e2b7c41;'),
    });
    // The app itself (app-only token) still signs.
    const appToken = await fx.issuer.mint(crypto);
    const ok = await rawRequest(`${fx.vault.url}/keys/rsa-signer/sign?${API}`, {
      method: 'POST',
      token: appToken,
      body: JSON.stringify({ alg: 'PS256', value: digest }),
    });
    expect(ok.status).toBe(200);
  });

  it('honours assignment scope: keys/rsa-signer grants that key only', async () => {
    const credential = credentialFor(fx.issuer, scoped);
    const keys = new KeyClient(fx.vault.url, credential, devClientOptions);
    const rsa = await keys.getKey('rsa-signer');
    const digest = createHash('sha256').update('scoped').digest();
    await expect(
      new CryptographyClient(rsa.id!, credential, devClientOptions).sign('RS256', digest),
    ).resolves.toMatchObject({ keyID: rsa.id });
    await expect(keys.getKey('other-signer')).rejects.toMatchObject({ statusCode: 403 });
  });

  it('lets a Reader read key metadata but not sign', async () => {
    const credential = credentialFor(fx.issuer, reader);
    const keys = new KeyClient(fx.vault.url, credential, devClientOptions);
    const rsa = await keys.getKey('rsa-signer');
    expect((await keys.getKey('other-signer')).keyType).toBe('RSA');
    await expect(
      new CryptographyClient(rsa.id!, credential, devClientOptions).sign(
        'PS256',
        createHash('sha256').update('r').digest(),
      ),
    ).rejects.toMatchObject({ statusCode: 403 });
  });

  it('rejects tokens that fail validation with 401 and the challenge', async () => {
    const url = `${fx.vault.url}/keys/rsa-signer?${API}`;
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      await fx.issuer.mint(crypto, { aud: 'https://management.azure.com' }),
      await fx.issuer.mint(crypto, { iss: `https://evil.example/${TENANT_ID}/v2.0` }),
      await fx.issuer.mint(crypto, { iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
      await fx.issuer.mint(crypto, {}, { untrustedKey: true }),
      // alg "none": the allow-list refuses unsigned tokens whatever they claim.
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
        JSON.stringify({
          aud: 'https://vault.azure.net',
          iss: `${fx.issuer.url}/${TENANT_ID}/v2.0`,
          azp: crypto.clientId,
          exp: now + 600,
        }),
      ).toString('base64url')}.`,
      'not-a-jwt',
    ];
    for (const token of cases) {
      const res = await rawRequest(url, { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain(
        `authorization="${fx.issuer.url}/${TENANT_ID}"`,
      );
      expect((res.body as { error: { code: string } }).error.code).toBe('Unauthorized');
    }
    // Trailing-slash audience and issuer variants are accepted, as Entra issues both forms.
    const ok = await rawRequest(url, {
      token: await fx.issuer.mint(crypto, {
        aud: 'https://vault.azure.net/',
        iss: `${fx.issuer.url}/${TENANT_ID}/v2.0/`,
      }),
    });
    expect(ok.status).toBe(200);
  });

  it('checks api-version like Key Vault', async () => {
    const token = await fx.issuer.mint(crypto);
    const missing = await rawRequest(`${fx.vault.url}/keys/rsa-signer`, { token });
    expect(missing.status).toBe(400);
    expect((missing.body as { error: { code: string } }).error.code).toBe('BadParameter');
    const unknown = await rawRequest(`${fx.vault.url}/keys/rsa-signer?api-version=1999-01-01`, {
      token,
    });
    expect(unknown.status).toBe(400);
    expect((unknown.body as { error: { message: string } }).error.message).toMatch(
      /The specified version \(1999-01-01\) is not recognized/,
    );
    // The SDK percent-encodes the dash in the parameter name.
    const encoded = await rawRequest(`${fx.vault.url}/keys/rsa-signer?api%2Dversion=7.6`, {
      token,
    });
    expect(encoded.status).toBe(200);
  });

  it('returns KeyNotFound for unknown keys and versions', async () => {
    const keys = new KeyClient(fx.vault.url, credentialFor(fx.issuer, crypto), devClientOptions);
    await expect(keys.getKey('no-such-key')).rejects.toMatchObject({
      statusCode: 404,
      code: 'KeyNotFound',
    });
    await expect(
      keys.getKey('rsa-signer', { version: 'ffffffffffffffffffffffffffffffff' }),
    ).rejects.toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
  });

  it('ignores unknown members, __proto__ included, and is not polluted by them', async () => {
    const token = await fx.issuer.mint(crypto);
    const digest = createHash('sha256').update('p').digest().toString('base64url');
    const res = await rawRequest(`${fx.vault.url}/keys/rsa-signer/sign?${API}`, {
      method: 'POST',
      token,
      body: `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"alg":"PS256","value":"${digest}","extra":1}`,
    });
    expect(res.status).toBe(200);
    expect((res.body as { kid: string; value: string }).value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('answers malformed and hostile input with 400 BadParameter, never 500', async () => {
    const token = await fx.issuer.mint(crypto);
    const key = await new KeyClient(
      fx.vault.url,
      credentialFor(fx.issuer, crypto),
      devClientOptions,
    ).getKey('rsa-signer');
    const signUrl = `${key.id}/sign?${API}`;
    const bodies = [
      '{',
      '',
      'null',
      '[]',
      '"PS256"',
      '{"alg":"PS256"}',
      '{"alg":"PS256","value":42}',
      '{"alg":"XX999","value":"AAAA"}',
      '{"alg":"PS256","value":"not base64url!!"}',
      '{"alg":"PS256","value":"AAAA"}',
      '{"alg":"ES256","value":"' + Buffer.alloc(32).toString('base64url') + '"}',
      '{"__proto__":{"polluted":true},"alg":"PS256","value":"AAAA"}',
      '{"alg":"PS256","value":"' + 'A'.repeat(5000) + '"}',
      '\u0000\u0001\u0002',
    ];
    for (const body of bodies) {
      const res = await rawRequest(signUrl, { method: 'POST', token, body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect((res.body as { error: { code: string } }).error.code).toBe('BadParameter');
    }
    const wrongType = await rawRequest(signUrl, {
      method: 'POST',
      token,
      body: 'alg=PS256',
      contentType: 'text/plain',
    });
    expect(wrongType.status).toBeGreaterThanOrEqual(400);
    expect(wrongType.status).toBeLessThan(500);
    for (let i = 0; i < 50; i++) {
      const junk = Buffer.from(
        Array.from({ length: 1 + ((i * 37) % 200) }, (_, j) => (i * 131 + j * 17) % 256),
      ).toString('latin1');
      const res = await rawRequest(signUrl, { method: 'POST', token, body: junk });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const badName = await rawRequest(`${fx.vault.url}/certificates/bad_name!/create?${API}`, {
      method: 'POST',
      token: await fx.issuer.mint(officer),
      body: '{"policy":{"x509_props":{"subject":"CN=x"}}}',
    });
    expect(badName.status).toBeGreaterThanOrEqual(400);
    expect(badName.status).toBeLessThan(500);
    expect({} as Record<string, unknown>).not.toHaveProperty('polluted');
  });

  it('takes names of up to 127 characters and refuses others as BadParameter, not as unknown objects', async () => {
    const officerToken = await fx.issuer.mint(officer);
    const longest = `n${'0123456789'.repeat(12)}abcdef`; // 127 characters
    expect(longest).toHaveLength(127);
    const created = await rawRequest(`${fx.vault.url}/certificates/${longest}/create?${API}`, {
      method: 'POST',
      token: officerToken,
      body: '{"policy":{"x509_props":{"subject":"CN=long"}}}',
    });
    expect(created.status).toBe(202);
    const keys = new KeyClient(fx.vault.url, credentialFor(fx.issuer, crypto), devClientOptions);
    expect((await keys.getKey(longest)).name).toBe(longest);

    // Key Vault: 400 BadParameter "The request URI contains an invalid name: …" (not KeyNotFound).
    await expect(keys.getKey('bad_name')).rejects.toMatchObject({
      statusCode: 400,
      code: 'BadParameter',
      message: 'The request URI contains an invalid name: bad_name',
    });
    const token = await fx.issuer.mint(crypto);
    const digest = createHash('sha256').update('n').digest().toString('base64url');
    for (const [method, path, body] of [
      ['GET', `/keys/${longest}x`, undefined],
      ['GET', '/keys/..%2Fcertificates', undefined],
      ['POST', '/keys/bad.name/sign', `{"alg":"RS256","value":"${digest}"}`],
      ['GET', '/certificates/bad_name', undefined],
      ['GET', '/certificates/bad%20name/pending', undefined],
    ] as const) {
      const res = await rawRequest(`${fx.vault.url}${path}?${API}`, { method, token, body });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect((res.body as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'BadParameter',
        message: expect.stringMatching(/^The request URI contains an invalid name: /),
      });
    }
  });

  it('refuses to sign with a disabled key: 403 Forbidden, inner error KeyDisabled', async () => {
    const created = await rawRequest(`${fx.vault.url}/certificates/disabled-signer/create?${API}`, {
      method: 'POST',
      token: await fx.issuer.mint(officer),
      body: '{"policy":{"x509_props":{"subject":"CN=disabled"}},"attributes":{"enabled":false}}',
    });
    expect(created.status).toBe(202);
    const res = await rawRequest(`${fx.vault.url}/keys/disabled-signer/sign?${API}`, {
      method: 'POST',
      token: await fx.issuer.mint(crypto),
      body: JSON.stringify({
        alg: 'PS256',
        value: createHash('sha256').update('d').digest().toString('base64url'),
      }),
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: {
        code: 'Forbidden',
        message: 'Operation sign is not allowed on a disabled key.',
        innererror: { code: 'KeyDisabled' },
      },
    });
  });

  it("answers URLs the router refuses (bad percent-encoding, an overlong segment) in Key Vault's error shape", async () => {
    const token = await fx.issuer.mint(crypto);
    for (const path of ['/keys/%ff', '/keys/%E0%A4%A', `/keys/${'a'.repeat(5000)}`]) {
      const res = await rawRequest(`${fx.vault.url}${path}?${API}`, { token });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect((res.body as { error: { code: string } }).error.code).toBe('BadParameter');
    }
    // Headers past Node's limit are refused before Fastify, still in Key Vault's envelope.
    const huge = await fetch(`${fx.vault.url}/keys/rsa-signer?${API}`, {
      headers: { authorization: `Bearer ${token}`, 'x-padding': 'p'.repeat(20_000) },
    });
    expect(huge.status).toBe(431);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('BadParameter');
    // A bodiless request under the SDK's JSON content type is an unsupported operation, not a parse error.
    const res = await fetch(`${fx.vault.url}/keys/rsa-signer?${API}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NotFound');
  });

  it('answers operations the broker never calls (list, create or verify keys) with 404 NotFound', async () => {
    const token = await fx.issuer.mint(crypto);
    const digest = createHash('sha256').update('v').digest().toString('base64url');
    for (const [method, path, body] of [
      ['GET', '/keys', undefined],
      ['POST', '/keys/standalone/create', '{"kty":"RSA"}'],
      ['POST', '/keys/rsa-signer/verify', `{"alg":"RS256","digest":"${digest}","value":"AA"}`],
    ] as const) {
      const res = await rawRequest(`${fx.vault.url}${path}?${API}`, { method, token, body });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect((res.body as { error: { code: string } }).error.code).toBe('NotFound');
    }
  });
});
