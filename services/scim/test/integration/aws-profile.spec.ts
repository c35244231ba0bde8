import { randomBytes } from 'node:crypto';
import { GROUP, patchOp, startScim, USER, type ScimTestApp } from '../support/scim-app';

// The `aws` compatibility profile reproduces IAM Identity Center's documented SCIM constraints.

const awsUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER],
  userName,
  displayName: `${userName} display`,
  name: { givenName: 'Given', familyName: 'Family' },
  emails: [{ value: `${userName}@example.com`, type: 'work', primary: true }],
  active: true,
  ...extra,
});

describe('aws profile', () => {
  let s: ScimTestApp;
  let aws: string;
  let dflt: string;
  const users: string[] = [];
  beforeAll(async () => {
    s = await startScim();
    aws = await s.directory('aws-tenant', 'aws');
    dflt = await s.directory('entra-tenant');
    for (let i = 0; i < 3; i++)
      users.push(
        (
          await s.request('POST', '/aws-tenant/scim/v2/Users', {
            token: aws,
            body: awsUser(`u${i}`),
          })
        ).body.id,
      );
  });
  afterAll(async () => s.close());

  it("answers a duplicate userName with a 409 body shaped as IAM Identity Center's", async () => {
    const body = {
      schemas: [USER],
      userName: 'dup409',
      displayName: 'Dup',
      name: { givenName: 'D', familyName: 'Up' },
    };
    expect((await s.request('POST', '/scim/v2/Users', { token: aws, body })).status).toBe(201);
    const r = await s.request('POST', '/scim/v2/Users', { token: aws, body });
    expect(r.status).toBe(409);
    // As in idp-scim-sync issue #45: string status, no `ConflictException: ` prefix, timeStamp.
    expect(r.body).toMatchObject({
      schema: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      detail: expect.not.stringMatching(/Exception/),
      exceptionRequestId: expect.any(String),
      timeStamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
    });
  });

  it('requires givenName, familyName and displayName, with AWS error bodies', async () => {
    const r = await s.request('POST', '/scim/v2/Users', {
      token: aws,
      body: { schemas: [USER], userName: 'minimal' },
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      schema: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '400',
      detail: expect.stringMatching(
        // No `ValidationException: ` prefix: real bodies have none (idp-scim-sync issue #30).
        /^(?!ValidationException).*displayName.*name.givenName.*name.familyName/,
      ),
      exceptionRequestId: expect.any(String),
      timeStamp: expect.any(String),
    });
    // The default profile accepts the same request.
    expect(
      (
        await s.request('POST', '/scim/v2/Users', {
          token: dflt,
          body: { schemas: [USER], userName: 'minimal' },
        })
      ).status,
    ).toBe(201);
  });

  it('accepts one value only for emails, addresses and phoneNumbers', async () => {
    for (const attr of ['emails', 'addresses', 'phoneNumbers']) {
      const two = [
        { value: 'a', type: 'work' },
        { value: 'b', type: 'home' },
      ];
      const r = await s.request('POST', '/scim/v2/Users', {
        token: aws,
        body: awsUser(`multi-${attr}`, { [attr]: two }),
      });
      expect({ attr, status: r.status }).toEqual({ attr, status: 400 });
    }
    const p = await s.request('PATCH', `/scim/v2/Users/${users[0]}`, {
      token: aws,
      body: patchOp({
        op: 'add',
        path: 'emails',
        value: [{ value: 'second@example.com', type: 'home' }],
      }),
    });
    expect(p.status).toBe(400);
  });

  it('limits PatchUser as AWS does: listed attributes only, userName/active once and never removed', async () => {
    const id = users[1];
    const patch = (...ops: unknown[]) =>
      s.request('PATCH', `/scim/v2/Users/${id}`, { token: aws, body: patchOp(...ops) });
    for (const ops of [
      [{ op: 'add', path: 'entitlements', value: [{ value: 'x' }] }],
      [{ op: 'replace', value: { x509Certificates: [{ value: 'x' }] } }],
      [{ op: 'remove', path: 'active' }],
      [{ op: 'remove', path: 'userName' }],
      [
        { op: 'replace', path: 'active', value: false },
        { op: 'replace', path: 'active', value: true },
      ],
    ]) {
      const r = await patch(...ops);
      expect({ ops, status: r.status }).toEqual({ ops, status: 400 });
    }
    const ok = await patch(
      { op: 'Replace', path: 'active', value: 'False' },
      {
        op: 'replace',
        path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
        value: 'Ops',
      },
      { op: 'replace', path: 'title', value: 'Eng' },
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ active: false, title: 'Eng' });
  });

  it('refuses PUT on groups', async () => {
    const g = await s.request('POST', '/scim/v2/Groups', {
      token: aws,
      body: { schemas: [GROUP], displayName: 'put-me' },
    });
    const r = await s.request('PUT', `/scim/v2/Groups/${g.body.id}`, {
      token: aws,
      body: { schemas: [GROUP], displayName: 'x' },
    });
    expect(r.status).toBe(400);
    expect(r.body.detail).not.toMatch(/Exception/);
  });

  it('allows at most 100 membership changes per PATCH, and no replace/remove of all members', async () => {
    const g = await s.request('POST', '/scim/v2/Groups', {
      token: aws,
      body: { schemas: [GROUP], displayName: 'limits', members: [{ value: users[0] }] },
    });
    const many = Array.from({ length: 101 }, (_, i) => ({ value: `id-${i}` }));
    const tooMany = await s.request('PATCH', `/scim/v2/Groups/${g.body.id}`, {
      token: aws,
      body: patchOp({ op: 'add', path: 'members', value: many }),
    });
    expect(tooMany.status).toBe(400);
    // IAM Identity Center's generic ValidationException text, without scimType (entra-realism).
    expect(tooMany.body.scimType).toBeUndefined();
    expect(tooMany.body.detail).toBe(
      'Request is unparsable, syntactically incorrect, or violates schema.',
    );
    for (const op of [
      { op: 'replace', path: 'members', value: [{ value: users[1] }] },
      { op: 'remove', path: 'members' },
      { op: 'replace', value: { members: [] } },
    ]) {
      const r = await s.request('PATCH', `/scim/v2/Groups/${g.body.id}`, {
        token: aws,
        body: patchOp(op),
      });
      expect({ op, status: r.status }).toEqual({ op, status: 400 });
    }
    const ok = await s.request('PATCH', `/scim/v2/Groups/${g.body.id}`, {
      token: aws,
      body: patchOp(
        { op: 'add', path: 'members', value: [{ value: users[1] }] },
        { op: 'remove', path: 'members', value: [{ value: users[0] }] },
      ),
    });
    expect(ok.status).toBe(204);
    const notPatchable = await s.request('PATCH', `/scim/v2/Groups/${g.body.id}`, {
      token: aws,
      body: patchOp({ op: 'add', path: 'description', value: 'x' }),
    });
    expect(notPatchable.status).toBe(400);
  });

  it('returns empty members on group reads, while membership filters still work', async () => {
    const g = await s.request('POST', '/scim/v2/Groups', {
      token: aws,
      body: { schemas: [GROUP], displayName: 'readers', members: [{ value: users[2] }] },
    });
    const got = await s.request('GET', `/scim/v2/Groups/${g.body.id}`, { token: aws });
    expect(got.body.members).toEqual([]);
    const f = await s.request(
      'GET',
      `/scim/v2/Groups?filter=${encodeURIComponent(`id eq "${g.body.id}" and members eq "${users[2]}"`)}`,
      { token: aws },
    );
    expect(f.body.totalResults).toBe(1);
  });

  it('accepts only eq filters with quoted values', async () => {
    expect(
      (
        await s.request('GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "u1"')}`, {
          token: aws,
        })
      ).body.totalResults,
    ).toBe(1);
    for (const f of [
      'active eq true',
      'userName eq "u1" or userName eq "u2"',
      'emails[value eq "u1@example.com"]',
    ]) {
      const r = await s.request('GET', `/scim/v2/Users?filter=${encodeURIComponent(f)}`, {
        token: aws,
      });
      expect({ f, status: r.status, scimType: r.body.scimType }).toEqual({
        f,
        status: 400,
        scimType: 'invalidFilter',
      });
    }
  });

  it('publishes ServiceProviderConfig as AWS does and caps pages at 50', async () => {
    const spc = await s.request('GET', '/scim/v2/ServiceProviderConfig', { token: aws });
    expect(spc.body).toMatchObject({
      bulk: { supported: false },
      filter: { supported: true, maxResults: 50 },
      etag: { supported: false },
      sort: { supported: false },
      changePassword: { supported: false },
    });
    const page = await s.request('GET', '/scim/v2/Users?count=500', { token: aws });
    expect(page.status).toBe(200);
    expect(page.body.itemsPerPage).toBeLessThanOrEqual(50);
  });

  it('fuzz over HTTP: random filters, paths and bodies never produce a 5xx', async () => {
    let seed = 99;
    const r = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const bits = [
      'userName',
      'members',
      'emails[type eq "work"]',
      '.value',
      ' eq ',
      '"x"',
      'and',
      '(',
      ')',
      '[',
      ']',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
      '%',
      '\\',
      'True',
      'not',
    ];
    const text = () =>
      r() < 0.3
        ? randomBytes(Math.floor(r() * 30)).toString('base64')
        : Array.from(
            { length: Math.floor(r() * 8) },
            () => bits[Math.floor(r() * bits.length)],
          ).join('');
    const g = await s.request('POST', '/scim/v2/Groups', {
      token: dflt,
      body: { schemas: [GROUP], displayName: 'fuzz' },
    });
    const u = await s.request('POST', '/scim/v2/Users', {
      token: dflt,
      body: { schemas: [USER], userName: 'fuzz' },
    });
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const token = r() < 0.5 ? aws : dflt;
      const which = Math.floor(r() * 5);
      const res =
        which === 0
          ? await s.request(
              'GET',
              `/scim/v2/${r() < 0.5 ? 'Users' : 'Groups'}?filter=${encodeURIComponent(text())}&attributes=${encodeURIComponent(text())}`,
              { token },
            )
          : which === 1
            ? await s.request('PATCH', `/scim/v2/Users/${u.body.id}`, {
                token: dflt,
                body: patchOp({
                  op: ['add', 'replace', 'remove'][i % 3],
                  path: text(),
                  value: r() < 0.5 ? text() : [{ value: text() }],
                }),
              })
            : which === 2
              ? await s.request('PATCH', `/scim/v2/Groups/${g.body.id}`, {
                  token: dflt,
                  body: patchOp({
                    op: ['add', 'replace', 'remove'][i % 3],
                    path: text(),
                    value: [{ value: text() }],
                  }),
                })
              : which === 3
                ? await s.request('POST', '/scim/v2/Users', {
                    token,
                    raw: text(),
                    headers: { 'content-type': 'application/scim+json' },
                  })
                : await s.request(
                    'GET',
                    `/scim/v2/Users?startIndex=${encodeURIComponent(text())}&count=${encodeURIComponent(text())}&cursor=${encodeURIComponent(text())}`,
                    { token },
                  );
      statuses.add(res.status);
      if (res.status >= 500) throw new Error(`5xx for case ${i}: ${res.text}`);
      if (res.status >= 400)
        expect(res.body?.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    }
    expect([...statuses].every((x) => x < 500)).toBe(true);
  });
});
