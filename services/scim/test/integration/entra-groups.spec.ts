import { PrismaService } from '../../src/db/prisma.service';
import { GROUP, patchOp, startScim, USER, type ScimTestApp } from '../support/scim-app';

// Entra ID's documented group requests (create, get without members, filter by displayName, patch
// non-member attributes, add/remove members in both forms, delete) against the default profile.

describe('Entra ID group provisioning (default profile)', () => {
  let s: ScimTestApp;
  let token: string;
  const users: string[] = [];
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('contoso');
    for (let i = 0; i < 6; i++) {
      const r = await s.request('POST', '/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: `member${i}@contoso.com`, displayName: `Member ${i}` },
      });
      users.push(r.body.id);
    }
  });
  afterAll(async () => s.close());

  /** The id of the i-th user created above. */
  const user = (i: number): string => {
    const id = users[i];
    if (id === undefined) throw new Error(`no user ${i}`);
    return id;
  };

  const createGroup = async (displayName: string, members: string[] = []) => {
    const r = await s.request('POST', '/scim/v2/Groups', {
      token,
      body: {
        schemas: [
          GROUP,
          'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group',
        ],
        externalId: `ext-${displayName}`,
        displayName,
        meta: { resourceType: 'Group' },
        members: members.map((value) => ({ value })),
      },
    });
    expect(r.status).toBe(201);
    return r.body as {
      id: string;
      members: { value: string; display?: string }[];
      meta: { version: string };
    };
  };
  const memberIds = async (id: string) =>
    ((await s.request('GET', `/scim/v2/Groups/${id}`, { token })).body.members ?? [])
      .map((m: { value: string }) => m.value)
      .sort();
  const patch = (id: string, ...ops: unknown[]) =>
    s.request('PATCH', `/scim/v2/Groups/${id}`, { token, body: patchOp(...ops) });

  it('creates a group (201) with id, meta and members', async () => {
    const g = await createGroup('Engineering', [user(0), user(1)]);
    expect(g).toMatchObject({
      displayName: 'Engineering',
      externalId: 'ext-Engineering',
      meta: { resourceType: 'Group', version: 'W/"1"' },
    });
    expect(g.members).toEqual(
      expect.arrayContaining([expect.objectContaining({ value: user(0), display: 'Member 0' })]),
    );
    expect(g.members).toHaveLength(2);
  });

  it('gets a group with excludedAttributes=members, and filters by displayName (any case), externalId, id, members', async () => {
    const g = await createGroup('Sales Team', [user(2)]);
    const one = await s.request('GET', `/scim/v2/Groups/${g.id}?excludedAttributes=members`, {
      token,
    });
    expect(one.status).toBe(200);
    expect(one.body.members).toBeUndefined();
    expect(one.body.displayName).toBe('Sales Team');
    for (const f of [
      'displayName eq "sales team"',
      'externalId eq "ext-Sales Team"',
      `id eq "${g.id}"`,
      `id eq "${g.id}" and members eq "${user(2)}"`,
      `members[value eq "${user(2)}"]`,
      `members.value eq "${user(2)}"`,
    ]) {
      const r = await s.request(
        'GET',
        `/scim/v2/Groups?excludedAttributes=members&filter=${encodeURIComponent(f)}`,
        { token },
      );
      expect({
        f,
        ids: r.body.Resources?.map((x: { id: string }) => x.id),
        members: r.body.Resources?.[0]?.members,
      }).toEqual({ f, ids: [g.id], members: undefined });
    }
    const notMember = await s.request(
      'GET',
      `/scim/v2/Groups?filter=${encodeURIComponent(`id eq "${g.id}" and members eq "${user(3)}"`)}`,
      { token },
    );
    expect(notMember.body.totalResults).toBe(0);
    // Users know their groups.
    const byGroup = await s.request(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent(`groups.value eq "${g.id}"`)}`,
      { token },
    );
    expect(byGroup.body.Resources.map((u: { id: string }) => u.id)).toEqual([user(2)]);
    const read = await s.request('GET', `/scim/v2/Users/${user(2)}`, { token });
    expect(read.body.groups).toEqual([
      expect.objectContaining({ value: g.id, display: 'Sales Team' }),
    ]);
  });

  it('keeps displayName unique per directory, case-insensitively (409 uniqueness), on create, PATCH and PUT, also under concurrency', async () => {
    const a = await createGroup('Unique Team');
    const b = await createGroup('Other Team');
    const dup = await s.request('POST', '/scim/v2/Groups', {
      token,
      body: { schemas: [GROUP], displayName: 'UNIQUE team' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({
      scimType: 'uniqueness',
      detail: expect.stringContaining('UNIQUE team'),
    });
    expect(
      (await patch(b.id, { op: 'replace', path: 'displayName', value: 'unique TEAM' })).body,
    ).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect(
      (
        await s.request('PUT', `/scim/v2/Groups/${b.id}`, {
          token,
          body: { schemas: [GROUP], displayName: 'Unique Team' },
        })
      ).status,
    ).toBe(409);
    // Renaming a group to another case of its own name is fine; other directories are separate.
    expect(
      (await patch(a.id, { op: 'replace', path: 'displayName', value: 'UNIQUE TEAM' })).status,
    ).toBe(204);
    const elsewhere = await s.directory('fabrikam-unique');
    expect(
      (
        await s.request('POST', '/scim/v2/Groups', {
          token: elsewhere,
          body: { schemas: [GROUP], displayName: 'Unique Team' },
        })
      ).status,
    ).toBe(201);
    const racing = await Promise.all(
      Array.from({ length: 6 }, () =>
        s.request('POST', '/scim/v2/Groups', {
          token,
          body: { schemas: [GROUP], displayName: 'Raced Name' },
        }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  it('refuses member values given as plain ids with 400 invalidValue naming the expected shape, changing nothing', async () => {
    const g = await createGroup('plain-ids', [user(0)]);
    for (const value of [user(1), [user(1)], [{ value: user(1) }, user(2)]]) {
      const r = await patch(g.id, { op: 'add', path: 'members', value });
      expect({ value, status: r.status, scimType: r.body.scimType }).toEqual({
        value,
        status: 400,
        scimType: 'invalidValue',
      });
      expect(r.body.detail).toMatch(/\{ ?"?value"?: ?/);
    }
    expect(await memberIds(g.id)).toEqual([user(0)]);
  });

  it('patches non-member attributes with 204', async () => {
    const g = await createGroup('Rename Me');
    const r = await patch(
      g.id,
      { op: 'Replace', path: 'displayName', value: 'Renamed' },
      { op: 'replace', value: { externalId: 'new-ext' } },
    );
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const got = await s.request('GET', `/scim/v2/Groups/${g.id}`, { token });
    expect(got.body).toMatchObject({
      displayName: 'Renamed',
      externalId: 'new-ext',
      meta: { version: 'W/"2"' },
    });
  });

  it('adds members, removes them by value list and by path filter', async () => {
    const g = await createGroup('Members');
    expect(
      (
        await patch(g.id, {
          op: 'Add',
          path: 'members',
          value: [{ $ref: null, value: user(0) }, { value: user(1) }, { value: user(2) }],
        })
      ).status,
    ).toBe(204);
    expect(await memberIds(g.id)).toEqual([user(0), user(1), user(2)].sort());
    expect(
      (
        await patch(g.id, {
          op: 'Remove',
          path: 'members',
          value: [{ $ref: null, value: user(0) }],
        })
      ).status,
    ).toBe(204);
    expect(
      (await patch(g.id, { op: 'remove', path: `members[value eq "${user(1)}"]` })).status,
    ).toBe(204);
    expect(await memberIds(g.id)).toEqual([user(2)]);
    // Adding an existing member again is harmless.
    expect(
      (
        await patch(g.id, {
          op: 'add',
          value: { members: [{ value: user(2) }, { value: user(3) }] },
        })
      ).status,
    ).toBe(204);
    expect(await memberIds(g.id)).toEqual([user(2), user(3)].sort());
  });

  it('replaces and removes all members in the default profile', async () => {
    const g = await createGroup('Replace All', [user(0), user(1)]);
    expect(
      (await patch(g.id, { op: 'replace', path: 'members', value: [{ value: user(4) }] })).status,
    ).toBe(204);
    expect(await memberIds(g.id)).toEqual([user(4)]);
    expect((await patch(g.id, { op: 'remove', path: 'members' })).status).toBe(204);
    expect(await memberIds(g.id)).toEqual([]);
  });

  it('applies member changes atomically: an unknown member fails the whole request', async () => {
    const g = await createGroup('Atomic', [user(0)]);
    const r = await patch(
      g.id,
      { op: 'remove', path: 'members', value: [{ value: user(0) }] },
      { op: 'add', path: 'members', value: [{ value: 'no-such-user' }] },
    );
    expect(r.status).toBe(400);
    expect(r.body.scimType).toBe('invalidValue');
    expect(await memberIds(g.id)).toEqual([user(0)]);
  });

  it('refuses malformed member paths and filters with 400, never 500', async () => {
    const g = await createGroup('Bad Paths');
    for (const [op, scimType] of [
      [{ op: 'remove', path: 'members[value eq' }, 'invalidPath'],
      [{ op: 'remove', path: 'members[display co "x"]' }, 'invalidFilter'],
      [{ op: 'add', path: 'members[value eq "x"]', value: [] }, 'invalidPath'],
      [{ op: 'add', path: 'members', value: [{ display: 'no value' }] }, 'invalidValue'],
      [{ op: 'replace', path: 'displayName', value: '' }, 'invalidValue'],
    ] as const) {
      const r = await patch(g.id, op);
      expect({ op, status: r.status, scimType: r.body.scimType }).toEqual({
        op,
        status: 400,
        scimType,
      });
    }
  });

  it('replaces a group with PUT (members become exactly the list)', async () => {
    const g = await createGroup('Put Group', [user(0), user(1)]);
    const r = await s.request('PUT', `/scim/v2/Groups/${g.id}`, {
      token,
      body: {
        schemas: [GROUP],
        displayName: 'Put Group 2',
        members: [{ value: user(1) }, { value: user(5) }],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.displayName).toBe('Put Group 2');
    expect(await memberIds(g.id)).toEqual([user(1), user(5)].sort());
  });

  it('deletes a group (204), then 404 on a second delete; deleting a user drops its memberships', async () => {
    const g = await createGroup('Delete Me', [user(5)]);
    expect((await s.request('DELETE', `/scim/v2/Groups/${g.id}`, { token })).status).toBe(204);
    expect((await s.request('DELETE', `/scim/v2/Groups/${g.id}`, { token })).status).toBe(404);
    expect((await s.request('GET', `/scim/v2/Groups/${g.id}`, { token })).status).toBe(404);
    const h = await createGroup('Keeps Group', [user(5)]);
    expect((await s.request('DELETE', `/scim/v2/Users/${user(5)}`, { token })).status).toBe(204);
    expect(await memberIds(h.id)).toEqual([]);
  });

  it('stages scim.group.* events with membership deltas in the outbox', async () => {
    const g = await createGroup('Evented', [user(0)]);
    await patch(
      g.id,
      { op: 'add', path: 'members', value: [{ value: user(1) }] },
      { op: 'remove', path: `members[value eq "${user(0)}"]` },
    );
    const rows = await s.app.get(PrismaService).outbox.findMany({ orderBy: { createdAt: 'asc' } });
    const mine = rows
      .map(
        (r) =>
          r.payload as { groupId?: string; membersAdded?: string[]; membersRemoved?: string[] },
      )
      .filter((p) => p.groupId === g.id);
    expect(
      rows
        .filter((r) => (r.payload as { groupId?: string }).groupId === g.id)
        .map((r) => r.subject),
    ).toEqual(['scim.group.created.v1', 'scim.group.updated.v1']);
    expect(mine[0]).toMatchObject({ membersAdded: [user(0)], membersRemoved: [] });
    expect(mine[1]).toMatchObject({ membersAdded: [user(1)], membersRemoved: [user(0)] });
  });
});
