import {
  expectScimError,
  startScim,
  USER,
  type Reply,
  type ScimTestApp,
} from '../support/scim-app';

// SCIM_RATE_LIMIT_PER_SECOND: each directory has its own budget; a request over it answers 429
// with Retry-After (what Entra's provisioning service waits for) in the SCIM error schema, or in
// IAM Identity Center's ThrottlingException shape for the aws profile, and changes nothing.

describe('per-directory request rate limit', () => {
  let s: ScimTestApp;
  let contoso: string;
  let fabrikam: string;
  let aws: string;
  beforeAll(async () => {
    // One request a second with a burst of 3: the fourth request in a row is over the limit.
    s = await startScim({ SCIM_RATE_LIMIT_PER_SECOND: '1', SCIM_RATE_LIMIT_BURST: '3' });
    contoso = await s.directory('contoso');
    fabrikam = await s.directory('fabrikam');
    aws = await s.directory('aws-tenant', 'aws');
  });
  afterAll(async () => s.close());

  const user = (userName: string) => ({
    schemas: [USER],
    userName,
    displayName: userName,
    name: { givenName: 'A', familyName: 'B' },
  });

  /** Requests until the first 429 (a slow machine may refill a request meanwhile): the replies. */
  const untilThrottled = async (send: () => Promise<Reply>): Promise<Reply[]> => {
    const out: Reply[] = [];
    while (out.length < 10 && out.at(-1)?.status !== 429) out.push(await send());
    return out;
  };

  it('answers 429 with Retry-After past the burst, refuses the write, and recovers', async () => {
    const rs = await untilThrottled(() =>
      s.request('POST', '/scim/v2/Users', {
        token: contoso,
        body: user(`throttled${Math.random()}@contoso.com`),
      }),
    );
    const over = rs.at(-1) as Reply;
    expectScimError(over, 429);
    expect(over.body.scimType).toBeUndefined();
    expect(over.headers['retry-after']).toBe('1');
    const created = rs.slice(0, -1);
    expect(created.length).toBeGreaterThanOrEqual(3);
    expect(created.map((r) => r.status)).toEqual(created.map(() => 201));

    // Counted per directory for the operator.
    const metrics = (await s.request('GET', '/metrics')).text;
    expect(metrics).toMatch(/^scim_requests_throttled_total\{directory="contoso"\} [1-9]/m);
    expect(metrics).not.toMatch(/^scim_requests_throttled_total\{directory="fabrikam"\}/m);

    // Another directory has its own budget.
    expect((await s.request('GET', '/scim/v2/Users', { token: fabrikam })).status).toBe(200);

    // Only the creates that were let through are stored; after Retry-After the directory is
    // served again.
    await new Promise((r) => setTimeout(r, 1100));
    const list = await s.request('GET', '/scim/v2/Users?filter=userName sw "throttled"', {
      token: contoso,
    });
    expect(list.status).toBe(200);
    expect(list.body.totalResults).toBe(created.length);
  });

  it('counts only authenticated requests: a bad token is 401, never 429, and spends nothing', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await s.request('GET', '/scim/v2/Users', { token: 'not-a-token' });
      expect(r.status).toBe(401);
    }
    expect((await s.request('GET', '/scim/v2/Users', { token: fabrikam })).status).toBe(200);
  });

  it('answers in the ThrottlingException shape in the aws profile', async () => {
    const rs = await untilThrottled(() => s.request('GET', '/scim/v2/Groups', { token: aws }));
    const last = rs.at(-1);
    expect(rs.length).toBeGreaterThanOrEqual(4);
    expect(last?.headers['retry-after']).toBe('1');
    expect(last?.body).toEqual({
      schema: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '429',
      detail: 'ThrottlingException: Too many requests were made that exceed the limits',
      exceptionRequestId: expect.any(String),
      timeStamp: expect.any(String),
    });
  });
});

describe('request rate limit off (the default)', () => {
  let s: ScimTestApp;
  let token: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('unlimited');
  });
  afterAll(async () => s.close());

  it('never answers 429', async () => {
    const rs = await Promise.all(
      Array.from({ length: 50 }, () => s.request('GET', '/scim/v2/Users', { token })),
    );
    expect(rs.map((r) => r.status)).toEqual(Array<number>(50).fill(200));
  });
});
