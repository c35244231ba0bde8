import { ENTERPRISE, GROUP, patchOp, startScim, USER, type ScimTestApp } from '../support/scim-app';

// Filters validators take from RFC 7644 §3.4.2.2's own examples, over HTTP on real PostgreSQL.

describe('conformance: filter examples of RFC 7644 §3.4.2.2', () => {
  let s: ScimTestApp;
  let token: string;
  const ids = new Map<string, string>();
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('conformance-filters');
    const users: Record<string, Record<string, unknown>> = {
      ext: { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { department: 'R&D' } },
      // the extension object alone: the service adds its URN to schemas
      implicit: { schemas: [USER], [ENTERPRISE]: { employeeNumber: '7' } },
      core: { schemas: [USER] },
      patched: { schemas: [USER] },
    };
    for (const [who, body] of Object.entries(users)) {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: { userName: who, ...body },
      });
      expect(r.status).toBe(201);
      ids.set(who, r.body.id);
    }
    // Entra patches an enterprise attribute by path onto a user created with the core schema only
    const p = await s.request('PATCH', `/scim/v2/Users/${ids.get('patched')}`, {
      token,
      body: patchOp({ op: 'Add', path: `${ENTERPRISE}:costCenter`, value: 'cc' }),
    });
    expect(p.status).toBe(200);
    const g = await s.request('POST', '/scim/v2/Groups', {
      token,
      body: { schemas: [GROUP], displayName: 'g' },
    });
    expect(g.status).toBe(201);
    ids.set('g', g.body.id);
  });
  afterAll(() => s.close());

  const names = async (type: string, filter: string): Promise<string[]> => {
    const r = await s.request(
      'GET',
      `/scim/v2/${type}?filter=${encodeURIComponent(filter)}&attributes=userName,displayName`,
      { token },
    );
    expect({ filter, status: r.status, body: r.status === 200 ? 'ok' : r.body }).toEqual({
      filter,
      status: 200,
      body: 'ok',
    });
    return r.body.Resources.map((x: { userName?: string; displayName?: string }) =>
      String(x.userName ?? x.displayName),
    ).sort();
  };

  it('filters by schemas: eq the enterprise URN finds exactly the users whose schemas list it', async () => {
    const withExt = await names('Users', `schemas eq "${ENTERPRISE}"`);
    expect(withExt).toEqual(['ext', 'implicit', 'patched']);
    // the same users as the representations show
    const all = await s.request('GET', '/scim/v2/Users?attributes=userName', { token });
    const shown = all.body.Resources.filter((u: { schemas: string[] }) =>
      u.schemas.includes(ENTERPRISE),
    ).map((u: { userName: string }) => u.userName);
    expect(shown.sort()).toEqual(withExt);
    expect(await names('Users', `not (schemas eq "${ENTERPRISE}")`)).toEqual(['core']);
    expect(await names('Users', `schemas eq "${USER.toUpperCase()}"`)).toHaveLength(4);
    expect(await names('Users', 'schemas co "enterprise" and userName sw "p"')).toEqual([
      'patched',
    ]);
    expect(await names('Groups', `schemas eq "${GROUP}"`)).toEqual(['g']);
    expect(await names('Groups', `schemas eq "${ENTERPRISE}"`)).toEqual([]);
  });

  it('filters by schemas across resource types (POST /.search)', async () => {
    const r = await s.request('POST', '/scim/v2/.search', {
      token,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: `schemas eq "${GROUP}" or schemas eq "${ENTERPRISE}"`,
        attributes: ['id'],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(4);
    expect(r.body.Resources.map((x: { id: string }) => x.id).sort()).toEqual(
      ['ext', 'implicit', 'patched', 'g'].map((k) => ids.get(k)).sort(),
    );
  });

  it('refuses sub-attributes of schemas (its values are simple)', async () => {
    for (const filter of ['schemas.value eq "x"', 'schemas[value eq "x"]']) {
      const r = await s.request('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`, {
        token,
      });
      expect({ filter, status: r.status, scimType: r.body.scimType }).toEqual({
        filter,
        status: 400,
        scimType: 'invalidFilter',
      });
    }
  });
});
