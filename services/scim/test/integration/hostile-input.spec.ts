import { Pool } from 'pg';
import { MAX_FILTER_TERMS } from '../../src/filter/filter-parser';
import { MAX_JSON_DEPTH } from '../../src/scim/json-body';
import {
  ENTERPRISE,
  GROUP,
  patchOp,
  expectScimError,
  startScim,
  USER,
  type Reply,
  type ScimTestApp,
} from '../support/scim-app';

// Input classes that used to answer 5xx (issue 11, defect 3): deep nesting, a null extension and
// attribute names that a plain object finds on its prototype. Each is driven over HTTP on a real
// database, the way Entra sends it.

const PROTO_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'prototype',
  'valueOf',
  'isPrototypeOf',
];

/** JSON text of `inner` wrapped in `depth` arrays (or objects). */
const nested = (depth: number, kind: 'array' | 'object', inner = '1') =>
  kind === 'array'
    ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;

describe('hostile SCIM input', () => {
  let s: ScimTestApp;
  let token: string;
  let db: Pool;
  let userId: string;
  let groupId: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('hostile');
    db = new Pool({ connectionString: s.databaseUrl, max: 2 });
    userId = (
      await s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: 'victim', name: { givenName: 'V' } },
      })
    ).body.id;
    groupId = (
      await s.request('POST', '/scim/v2/Groups', {
        token,
        body: { schemas: [GROUP], displayName: 'victims', members: [{ value: userId }] },
      })
    ).body.id;
  });
  afterAll(async () => {
    await db.end();
    await s.close();
  });

  /** Adds `"key": <json text>` to a stored user document, bypassing the API (rows written by older versions). */
  const storeRaw = async (id: string, key: string, jsonText: string) => {
    const { rows } = await db.query<{ text: string }>(
      'SELECT data::text AS text FROM scim_users WHERE id = $1',
      [id],
    );
    const [row] = rows;
    if (!row) throw new Error(`no stored user ${id}`);
    await db.query('UPDATE scim_users SET data = $1::json WHERE id = $2', [
      `${row.text.replace(/}\s*$/, '')},${JSON.stringify(key)}:${jsonText}}`,
      id,
    ]);
  };

  const raw = (method: string, url: string, text: string, contentType = 'application/scim+json') =>
    s.request(method, url, { token, raw: text, headers: { 'content-type': contentType } });

  describe('nesting depth is bounded at the parser', () => {
    const bodies = (value: string) => ({
      user: `{"schemas":["${USER}"],"userName":"deep-${Math.random()}","x":${value}}`,
      group: `{"schemas":["${GROUP}"],"displayName":"deep-${Math.random()}","x":${value}}`,
      patch: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"x","value":${value}}]}`,
    });

    it.each([
      ['2,000 objects', nested(2000, 'object')],
      ['5,000 arrays', nested(5000, 'array')],
      ['1,900 arrays (used to be stored)', nested(1900, 'array')],
      ['one level over the limit', nested(MAX_JSON_DEPTH, 'array')],
    ])(
      'refuses %s in POST, PUT and PATCH with 400 invalidSyntax naming the limit',
      async (_name, value) => {
        const b = bodies(value);
        for (const [method, url, text] of <[string, string, string][]>[
          ['POST', '/scim/v2/Users', b.user],
          ['PUT', `/scim/v2/Users/${userId}`, b.user],
          ['PATCH', `/scim/v2/Users/${userId}`, b.patch],
          ['POST', '/scim/v2/Groups', b.group],
          ['PUT', `/scim/v2/Groups/${groupId}`, b.group],
          ['PATCH', `/scim/v2/Groups/${groupId}`, b.patch],
        ]) {
          for (const ct of ['application/scim+json', 'application/json']) {
            const r = await raw(method, url, text, ct);
            expectScimError(r, 400, 'invalidSyntax');
            expect(r.body.detail).toContain(String(MAX_JSON_DEPTH));
          }
        }
        const got = await s.request('GET', `/scim/v2/Users/${userId}`, { token });
        // Version 2: created, then joined the group in beforeAll; none of the refused writes.
        expect(got.body).toMatchObject({ userName: 'victim', meta: { version: 'W/"2"' } });
        expect(got.body.x).toBeUndefined();
      },
    );

    it('lets a body exactly at the limit past the parser (brackets inside strings do not count)', async () => {
      // The user object is level 1, so the value may nest MAX_JSON_DEPTH - 1 levels. No attribute
      // of the schema nests that deep, so the schema check (not the depth limit) answers.
      const r = await raw(
        'POST',
        '/scim/v2/Users',
        `{"schemas":["${USER}"],"userName":"at-limit","title":"[[[[{{{{","x":${nested(MAX_JSON_DEPTH - 1, 'array')}}`,
      );
      expectScimError(r, 400, 'invalidSyntax');
      expect(r.body.detail).toContain('Unknown attribute "x"');
      // body, Operations, the operation: the value nests MAX_JSON_DEPTH - 3 levels.
      const p = await raw(
        'PATCH',
        `/scim/v2/Users/${userId}`,
        `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"x","value":${nested(MAX_JSON_DEPTH - 3, 'array')}}]}`,
      );
      expectScimError(p, 400, 'invalidPath');
      expect(p.body.detail).toContain('"x"');
    });

    it('serves and patches a deeply nested user stored before the limit existed', async () => {
      const id = (
        await s.request('POST', '/scim/v2/Users', {
          token,
          body: { schemas: [USER], userName: 'legacy-deep' },
        })
      ).body.id;
      await storeRaw(id, 'x', nested(1900, 'array'));
      const p = await s.request('PATCH', `/scim/v2/Users/${id}`, {
        token,
        body: patchOp({ op: 'replace', path: 'displayName', value: 'Still Works' }),
      });
      expect(p.status).toBe(200);
      expect(p.body.displayName).toBe('Still Works');
      for (const url of [
        `/scim/v2/Users/${id}`,
        `/scim/v2/Users/${id}?excludedAttributes=name`,
        `/scim/v2/Users?filter=${encodeURIComponent('userName eq "legacy-deep"')}&excludedAttributes=emails`,
      ]) {
        expect((await s.request('GET', url, { token })).status).toBe(200);
      }
      const put = await s.request('PUT', `/scim/v2/Users/${id}`, {
        token,
        body: { schemas: [USER], userName: 'legacy-deep' },
      });
      expect(put.status).toBe(200);
    });
  });

  describe('a null enterprise extension', () => {
    const enterpriseRefs = [
      `${ENTERPRISE}:department`,
      `${ENTERPRISE}:manager`,
      `${ENTERPRISE}:manager.value`,
      ENTERPRISE,
    ];
    const readsWithProjection = async (id: string) => {
      for (const param of ['attributes', 'excludedAttributes']) {
        for (const ref of enterpriseRefs) {
          const one = await s.request(
            'GET',
            `/scim/v2/Users/${id}?${param}=${encodeURIComponent(ref)}`,
            { token },
          );
          expect({ ref, param, status: one.status }).toEqual({ ref, param, status: 200 });
          expect(one.body[ENTERPRISE] ?? null).toBeNull();
          const list = await s.request(
            'GET',
            `/scim/v2/Users?${param}=${encodeURIComponent(ref)}`,
            { token },
          );
          expect({ ref, param, status: list.status }).toEqual({ ref, param, status: 200 });
        }
      }
    };

    it('is stored as absent, and projections naming enterprise attributes keep working', async () => {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER, ENTERPRISE], userName: 'null-ext', [ENTERPRISE]: null },
      });
      expect(r.status).toBe(201);
      expect(r.body).not.toHaveProperty([ENTERPRISE]);
      const { rows } = await db.query<{ data: Record<string, unknown> }>(
        'SELECT data FROM scim_users WHERE id = $1',
        [r.body.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.data).not.toHaveProperty([ENTERPRISE]);
      await readsWithProjection(r.body.id);
      // A PATCH may set it afterwards; replacing it with null clears it again.
      const add = await s.request('PATCH', `/scim/v2/Users/${r.body.id}`, {
        token,
        body: patchOp({ op: 'add', path: `${ENTERPRISE}:department`, value: 'Sales' }),
      });
      expect(add.body[ENTERPRISE]).toEqual({ department: 'Sales' });
      const clear = await s.request('PATCH', `/scim/v2/Users/${r.body.id}`, {
        token,
        body: patchOp({ op: 'replace', value: { [ENTERPRISE]: null } }),
      });
      expect(clear.status).toBe(200);
      expect(clear.body).not.toHaveProperty([ENTERPRISE]);
    });

    it('refuses an extension that is neither an object nor null', async () => {
      for (const v of ['x', 5, true, [], [{ department: 'd' }]]) {
        const r = await s.request('POST', '/scim/v2/Users', {
          token,
          body: {
            schemas: [USER, ENTERPRISE],
            userName: `bad-ext-${JSON.stringify(v)}`,
            [ENTERPRISE]: v,
          },
        });
        expectScimError(r, 400, 'invalidValue');
      }
    });

    it('repairs rows stored with a null or non-object extension on read, and PATCH still works on them', async () => {
      for (const stored of [null, 'x', 7, [1, 2]]) {
        const id = (
          await s.request('POST', '/scim/v2/Users', {
            token,
            body: { schemas: [USER, ENTERPRISE], userName: `legacy-ext-${JSON.stringify(stored)}` },
          })
        ).body.id;
        await storeRaw(id, ENTERPRISE, JSON.stringify(stored));
        const got = await s.request('GET', `/scim/v2/Users/${id}`, { token });
        expect(got.status).toBe(200);
        expect(got.body).not.toHaveProperty([ENTERPRISE]);
        await readsWithProjection(id);
        const p = await s.request('PATCH', `/scim/v2/Users/${id}`, {
          token,
          body: patchOp({ op: 'add', path: `${ENTERPRISE}:manager`, value: 'boss-id' }),
        });
        expect(p.status).toBe(200);
        expect(p.body[ENTERPRISE]).toEqual({ manager: { value: 'boss-id' } });
      }
    });
  });

  describe('attribute names that a plain object finds on its prototype', () => {
    const noServerError = (r: Reply, what: string) => {
      expect({ what, status: r.status < 500 ? 'ok' : r.status }).toEqual({ what, status: 'ok' });
      if (r.status >= 400) expectScimError(r, r.status);
    };

    it.each(PROTO_NAMES)(
      'filters naming %s answer 200 or 400 invalidFilter, never 5xx',
      async (n) => {
        const filters = [
          `${n} eq "x"`,
          `${n}.value eq "x"`,
          `emails[${n} eq "x"]`,
          `members[${n} eq "x"]`,
          `${USER}:${n} eq "x"`,
          `${n} pr`,
          `userName eq "x" or ${n} eq "x"`,
        ];
        for (const base of ['/scim/v2/Users', '/scim/v2/Groups']) {
          for (const f of filters) {
            const r = await s.request('GET', `${base}?filter=${encodeURIComponent(f)}`, { token });
            expectScimError(r, 400, 'invalidFilter');
          }
        }
      },
    );

    it.each(PROTO_NAMES)(
      'attributes, excludedAttributes and sortBy naming %s never 5xx and return no inherited values',
      async (n) => {
        const refs = [
          n,
          `${n}.value`,
          `name.${n}`,
          `emails.${n}`,
          `${ENTERPRISE}:${n}`,
          `${USER}:${n}`,
        ];
        for (const ref of refs) {
          for (const base of [
            `/scim/v2/Users`,
            `/scim/v2/Users/${userId}`,
            `/scim/v2/Groups`,
            `/scim/v2/Groups/${groupId}`,
          ]) {
            for (const param of ['attributes', 'excludedAttributes', 'sortBy']) {
              const r = await s.request('GET', `${base}?${param}=${encodeURIComponent(ref)}`, {
                token,
              });
              noServerError(r, `${base} ${param}=${ref}`);
              if (r.status === 200 && param === 'attributes')
                expect(r.text).not.toMatch(/function|\[native code\]/);
            }
          }
        }
        const got = await s.request(
          'GET',
          `/scim/v2/Users/${userId}?attributes=${encodeURIComponent(n)}`,
          { token },
        );
        if (got.status === 200) expect(Object.keys(got.body).sort()).toEqual(['id', 'schemas']);
      },
    );

    it.each(PROTO_NAMES)(
      'PATCH paths and value keys naming %s never 5xx, and a refusal changes nothing',
      async (n) => {
        const ops = [
          { op: 'add', path: n, value: 'v' },
          { op: 'replace', path: `${n}.${n}`, value: 'v' },
          { op: 'add', path: `emails[${n} eq "x"].value`, value: 'v' },
          { op: 'add', path: `emails[type eq "work"].${n}`, value: 'v' },
          { op: 'remove', path: `${n}[value eq "x"]` },
          { op: 'add', path: `${ENTERPRISE}:${n}`, value: { [n]: 'v' } },
          { op: 'add', value: { [n]: 'v', name: { [n]: { [n]: 1 } } } },
          { op: 'replace', value: { [`${ENTERPRISE}:${n}`]: 'v' } },
          { op: 'add', path: 'name', value: JSON.parse(`{"${n}":{"polluted":true}}`) },
        ];
        for (const [kind, url] of <[string, string][]>[
          ['user', `/scim/v2/Users/${userId}`],
          ['group', `/scim/v2/Groups/${groupId}`],
        ]) {
          for (const o of ops) {
            const before = await s.request('GET', url, { token });
            const r = await s.request('PATCH', url, { token, body: patchOp(o) });
            noServerError(r, `${kind} ${JSON.stringify(o)}`);
            if (r.status >= 400)
              expect((await s.request('GET', url, { token })).body).toEqual(before.body);
          }
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      },
    );

    it.each([
      ['constructor', `"constructor":"c","toString":"t"`],
      ['name.__proto__', `"name":{"__proto__":{"polluted":true},"givenName":"G"}`],
      ['emails[0].__proto__', `"emails":[{"value":"a@example.com","__proto__":{"polluted":true}}]`],
    ])(
      'refuses the prototype-named key %s of a body as the unknown attribute it is, storing and polluting nothing',
      async (name, members) => {
        const text = `{"schemas":["${USER}"],"userName":"proto-keys",${members}}`;
        const r = await raw('POST', '/scim/v2/Users', text);
        expectScimError(r, 400, 'invalidSyntax');
        expect(r.body.detail).toContain(`"${name}"`);
        const found = await s.request(
          'GET',
          `/scim/v2/Users?filter=${encodeURIComponent('userName eq "proto-keys"')}`,
          { token },
        );
        expect(found.body.totalResults).toBe(0);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      },
    );

    it.each(PROTO_NAMES)('a path segment %s under the SCIM base is a SCIM 404', async (n) => {
      for (const url of [`/scim/v2/${n}`, `/scim/v2/${n}/x`, `/hostile/scim/v2/${n}`]) {
        const r = await s.request('GET', url, { token });
        expectScimError(r, 404);
      }
    });
  });

  describe('text every later query must be able to read', () => {
    // A lone surrogate fits the json column but fails every jsonb cast: one such user used to
    // break filtering and sorting for the whole directory. The bodies below are JSON text with
    // `\udXXX` escapes, sent as they are.
    it.each([
      ['a value', `{"schemas":["${USER}"],"userName":"sur-v","title":"\\udfff"}`],
      ['a key', `{"schemas":["${USER}"],"userName":"sur-k","x":{"\\ud800":"v"}}`],
      ['a name part', `{"schemas":["${USER}"],"userName":"sur-n","name":{"givenName":"A\\ud83d"}}`],
    ])('refuses a lone surrogate in %s (POST, PUT) with 400 invalidValue', async (_what, text) => {
      expectScimError(await raw('POST', '/scim/v2/Users', text), 400, 'invalidValue');
      expectScimError(await raw('PUT', `/scim/v2/Users/${userId}`, text), 400, 'invalidValue');
    });

    it('refuses it in PATCH values and group attributes, and filtering keeps working', async () => {
      const before = await s.request('GET', `/scim/v2/Users/${userId}`, { token });
      const patch = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"\\udc00x"}]}`;
      expectScimError(await raw('PATCH', `/scim/v2/Users/${userId}`, patch), 400, 'invalidValue');
      expectScimError(
        await raw(
          'POST',
          '/scim/v2/Groups',
          `{"schemas":["${GROUP}"],"displayName":"sur-g","externalId":"\\udfff"}`,
        ),
        400,
        'invalidValue',
      );
      expect((await s.request('GET', `/scim/v2/Users/${userId}`, { token })).body).toEqual(
        before.body,
      );
      // A well-formed pair (an emoji) is ordinary text.
      const emoji = await raw(
        'POST',
        '/scim/v2/Users',
        `{"schemas":["${USER}"],"userName":"sur-ok","title":"\\ud83d\\ude00 lead"}`,
      );
      expect(emoji.status).toBe(201);
      for (const filter of ['title eq "\u{1F600} lead"', 'title co "lead"', 'name.givenName pr']) {
        const r = await s.request('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`, {
          token,
        });
        expect({ filter, status: r.status }).toEqual({ filter, status: 200 });
      }
    });
  });

  it('bounds a filter at 32 comparisons (each can cost a pass over the directory)', async () => {
    const terms = (n: number) =>
      Array.from({ length: n }, (_, i) => (i === 0 ? 'userName eq "victim"' : `title co "t${i}"`));
    const list = (filter: string) =>
      s.request('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`, { token });
    const ok = await list(terms(MAX_FILTER_TERMS).join(' or '));
    expect([ok.status, ok.body.totalResults]).toEqual([200, 1]);
    expectScimError(await list(terms(MAX_FILTER_TERMS + 1).join(' or ')), 400, 'invalidFilter');
    // Inside a value path too, and through POST /.search.
    // The value path counts as one comparison, and each one inside it as another.
    const values = Array.from({ length: MAX_FILTER_TERMS - 1 }, (_, i) => `value co "v${i}"`);
    const inPath = `emails[${values.join(' or ')}]`;
    expect((await list(inPath)).status).toBe(200);
    expectScimError(await list(`${inPath} or userName eq "x"`), 400, 'invalidFilter');
    const search = await s.request('POST', '/scim/v2/Users/.search', {
      token,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: terms(40).join(' and '),
      },
    });
    expectScimError(search, 400, 'invalidFilter');
    expect(search.body.detail).toBe(`Filter has more than ${MAX_FILTER_TERMS} comparisons`);
  });

  it('applies 20 concurrent PATCHes of one user, each one, without a 409', async () => {
    const user = await s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'busy-user' },
    });
    const values = Array.from({ length: 20 }, (_, i) => `+1 555 01${String(i).padStart(2, '0')}`);
    const replies = await Promise.all(
      values.map((value) =>
        s.request('PATCH', `/scim/v2/Users/${user.body.id}`, {
          token,
          body: patchOp({ op: 'add', path: 'phoneNumbers', value: [{ type: 'work', value }] }),
        }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(values.map(() => 200));
    const got = await s.request('GET', `/scim/v2/Users/${user.body.id}`, { token });
    expect(got.body.phoneNumbers.map((p: { value: string }) => p.value).sort()).toEqual(values);
    expect(got.body.meta.version).toBe('W/"21"');
  });

  it('never stores a password (write-only; nothing here signs anyone in)', async () => {
    const created = await s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'pw-user', password: 'P@ssw0rd-POST' },
    });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain('P@ssw0rd');
    const patched = await s.request('PATCH', `/scim/v2/Users/${created.body.id}`, {
      token,
      body: patchOp({ op: 'replace', path: 'password', value: 'P@ssw0rd-PATCH' }),
    });
    expect(patched.status).toBe(200);
    const replaced = await s.request('PUT', `/scim/v2/Users/${created.body.id}`, {
      token,
      body: { schemas: [USER], userName: 'pw-user', Password: 'P@ssw0rd-PUT' },
    });
    expect(replaced.status).toBe(200);
    const { rows } = await db.query<{ text: string }>(
      'SELECT data::text AS text FROM scim_users WHERE id = $1',
      [created.body.id],
    );
    expect(rows[0]?.text).not.toMatch(/P@ssw0rd|password/i);
  });
});
