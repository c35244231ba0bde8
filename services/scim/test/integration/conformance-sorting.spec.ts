import { GROUP, startScim, USER, type ScimTestApp } from '../support/scim-app';

// RFC 7644 §3.4.2.3 as an outside validator checks it: resources without a value are "ordered last
// if ascending and first if descending", and a multi-valued sortBy sorts by "the value of the
// primary attribute, if any, or else the first value in the list, if any".

describe('conformance: sortBy / sortOrder (RFC 7644 §3.4.2.3)', () => {
  let s: ScimTestApp;
  let token: string;
  const ids = new Map<string, string>();
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('sorting');
    const users: Record<string, Record<string, unknown>> = {
      // primary value "b..." although the first value sorts before everyone's
      ann: {
        title: 'B',
        emails: [{ value: 'a0@x.io' }, { value: 'b@x.io', primary: true }],
      },
      ben: { title: 'a', emails: [{ value: 'c@x.io', type: 'work' }, { value: 'a1@x.io' }] },
      cid: { emails: [{ value: 'A@x.io', type: 'home', primary: 'True' }] },
      dot: {},
    };
    for (const [who, body] of Object.entries(users)) {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: who, ...body },
      });
      expect(r.status).toBe(201);
      ids.set(who, r.body.id);
    }
    for (const [name, members] of [
      ['g-zed', ['ben']],
      ['g-alpha', ['ann']],
      ['g-mid', ['ann']],
      ['g-empty', []],
    ] as const) {
      const r = await s.request('POST', '/scim/v2/Groups', {
        token,
        body: {
          schemas: [GROUP],
          displayName: name,
          members: members.map((m) => ({ value: ids.get(m) })),
        },
      });
      expect(r.status).toBe(201);
    }
  });
  afterAll(() => s.close());

  const order = async (qs: string): Promise<string[]> => {
    const r = await s.request('GET', `/scim/v2/Users?${qs}`, { token });
    expect({ qs, status: r.status, body: r.status === 200 ? 'ok' : r.body }).toEqual({
      qs,
      status: 200,
      body: 'ok',
    });
    return r.body.Resources.map((x: { userName: string }) => x.userName);
  };

  it('puts resources without a value last ascending and first descending', async () => {
    const asc = await order('sortBy=title'); // "a" < "B" case-insensitively; ties in id order
    expect([asc.slice(0, 2), [...asc.slice(2)].sort()]).toEqual([
      ['ben', 'ann'],
      ['cid', 'dot'],
    ]);
    const desc = await order('sortBy=title&sortOrder=descending');
    expect([[...desc.slice(0, 2)].sort(), desc.slice(2)]).toEqual([
      ['cid', 'dot'],
      ['ann', 'ben'],
    ]);
  });

  it('sorts a multi-valued attribute by its primary value, else its first', async () => {
    // ann: b@x.io (primary), ben: c@x.io (first), cid: A@x.io (primary, "True"), dot: none
    expect(await order('sortBy=emails')).toEqual(['cid', 'ann', 'ben', 'dot']);
    expect(await order('sortBy=emails.value')).toEqual(['cid', 'ann', 'ben', 'dot']);
    expect(await order('sortBy=emails.value&sortOrder=descending')).toEqual([
      'dot',
      'ben',
      'ann',
      'cid',
    ]);
    // the sub-attribute of that same value: ann's primary has no type, ben's first is "work"
    const byType = await order('sortBy=emails.type');
    expect([byType.slice(0, 2), [...byType.slice(2)].sort()]).toEqual([
      ['cid', 'ben'],
      ['ann', 'dot'],
    ]);
    // a user's groups are listed by display name: ann's first is g-alpha, ben's g-zed
    const byGroup = await order('sortBy=groups.display');
    expect([byGroup.slice(0, 2), [...byGroup.slice(2)].sort()]).toEqual([
      ['ann', 'ben'],
      ['cid', 'dot'],
    ]);
  });

  it('sorts groups by a member value and still refuses complex attributes', async () => {
    const r = await s.request('GET', '/scim/v2/Groups?sortBy=members.value&sortOrder=descending', {
      token,
    });
    expect(r.status).toBe(200);
    const names = r.body.Resources.map((g: { displayName: string }) => g.displayName);
    // no member first (descending); ids compare caseExact by code point; ann's two groups tie
    const benGreater = (ids.get('ben') as string) > (ids.get('ann') as string);
    const tie = (a: string[]) => [...a].sort();
    expect([
      names[0],
      ...(benGreater ? [names[1], tie(names.slice(2))] : [tie(names.slice(1, 3)), names[3]]),
    ]).toEqual(
      benGreater
        ? ['g-empty', 'g-zed', ['g-alpha', 'g-mid']]
        : ['g-empty', ['g-alpha', 'g-mid'], 'g-zed'],
    );
    for (const qs of ['sortBy=name', 'sortBy=addresses']) {
      const bad = await s.request('GET', `/scim/v2/Users?${qs}`, { token });
      expect({ qs, status: bad.status, scimType: bad.body.scimType }).toEqual({
        qs,
        status: 400,
        scimType: 'invalidValue',
      });
    }
  });
});
