import { PG_POOL } from '@idp/service-kit';
import type { Pool } from 'pg';
import { CleanupService } from '../../src/cleanup/cleanup.service';
import { PrismaService } from '../../src/db/prisma.service';
import {
  GROUP,
  patchOp,
  expectScimError,
  startScim,
  USER,
  type ScimTestApp,
} from '../support/scim-app';

// RFC 7644 §3.14: a resource's version changes whenever the resource changes. A user's `groups`
// is derived from group membership and a group's `members` (with each member's display) from its
// users, so a change through the other resource must give a new version, ETag and lastModified
// to exactly the resources whose representation changed, in the same transaction, and leave the
// others alone.

type Kind = 'Users' | 'Groups';
interface Version {
  version: string;
  etag: string;
  lastModified: string;
}

describe('versions follow changes made through another resource (RFC 7644 §3.14)', () => {
  let s: ScimTestApp;
  let token: string;
  beforeAll(async () => {
    s = await startScim({ SCIM_DEACTIVATED_RETENTION_DAYS: '30' });
    token = await s.directory('versions');
  });
  afterAll(async () => s.close());

  let seq = 0;
  const createUser = async (extra: Record<string, unknown> = {}): Promise<string> => {
    seq += 1;
    const r = await s.request('POST', '/scim/v2/Users', {
      token,
      body: {
        schemas: [USER],
        userName: `v${seq}@contoso.com`,
        displayName: `User ${seq}`,
        ...extra,
      },
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const createUsers = async (n: number): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await createUser());
    return out;
  };
  const createGroup = async (members: string[] = []): Promise<string> => {
    seq += 1;
    const r = await s.request('POST', '/scim/v2/Groups', {
      token,
      body: {
        schemas: [GROUP],
        displayName: `Group ${seq}`,
        members: members.map((value) => ({ value })),
      },
    });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const patch = (kind: Kind, id: string, ops: unknown[], headers?: Record<string, string>) =>
    s.request('PATCH', `/scim/v2/${kind}/${id}`, { token, body: patchOp(...ops), headers });
  const addMembers = async (group: string, ids: string[]) =>
    expect(
      (
        await patch('Groups', group, [
          { op: 'add', path: 'members', value: ids.map((value) => ({ value })) },
        ])
      ).status,
    ).toBe(204);
  const get = async (kind: Kind, id: string) => {
    const r = await s.request('GET', `/scim/v2/${kind}/${id}`, { token });
    expect(r.status).toBe(200);
    return r;
  };
  const versionOf = async (kind: Kind, id: string): Promise<Version> => {
    const r = await get(kind, id);
    expect(r.headers.etag).toBe(r.body.meta.version);
    return {
      version: r.body.meta.version,
      etag: String(r.headers.etag),
      lastModified: r.body.meta.lastModified,
    };
  };
  const versionsOf = async (kind: Kind, ids: string[]) =>
    Promise.all(ids.map((id) => versionOf(kind, id)));
  const number = (v: Version): number => Number(/^W\/"(\d+)"$/.exec(v.version)?.[1]);
  const groupsOf = async (user: string): Promise<string[]> =>
    ((await get('Users', user)).body.groups ?? []).map((g: { value: string }) => g.value).sort();
  const membersOf = async (group: string): Promise<string[]> =>
    ((await get('Groups', group)).body.members ?? []).map((m: { value: string }) => m.value).sort();
  /** lastModified is a transaction's start time: let the clock move past the last write. */
  const tick = () => new Promise((r) => setTimeout(r, 5));

  /** The resource has a new version (exactly one more), ETag and lastModified. */
  const expectBumped = (before: Version, after: Version) => {
    expect(number(after)).toBe(number(before) + 1);
    expect(after.etag).not.toBe(before.etag);
    expect(Date.parse(after.lastModified)).toBeGreaterThan(Date.parse(before.lastModified));
  };

  /** If-Match with the ETag from before the change is refused (412) and the resource kept as it is. */
  const expectStaleEtagRefused = async (kind: Kind, id: string, stale: Version) => {
    const now = await get(kind, id);
    const r = await patch(
      kind,
      id,
      [{ op: 'replace', path: kind === 'Users' ? 'title' : 'externalId', value: 'x' }],
      {
        'if-match': stale.etag,
      },
    );
    expectScimError(r, 412);
    expect((await get(kind, id)).body).toEqual(now.body);
  };

  describe("a user's groups changed by a group write", () => {
    it('PATCH add members: each added user gets a new version; users not added keep theirs; the old ETag gets 412', async () => {
      const [a, b, other] = await createUsers(3);
      const g = await createGroup();
      const before = await versionsOf('Users', [a!, b!, other!]);
      await tick();
      await addMembers(g, [a!, b!]);
      const after = await versionsOf('Users', [a!, b!, other!]);
      expectBumped(before[0]!, after[0]!);
      expectBumped(before[1]!, after[1]!);
      expect(after[2]).toEqual(before[2]);
      expect(await groupsOf(a!)).toEqual([g]);
      await expectStaleEtagRefused('Users', a!, before[0]!);
      const fresh = await patch('Users', b!, [{ op: 'replace', path: 'title', value: 'Lead' }], {
        'if-match': after[1]!.etag,
      });
      expect(fresh.status).toBe(200);
    });

    it('PATCH remove a member: only the removed user changes; a no-op membership PATCH writes nothing', async () => {
      const [a, b] = await createUsers(2);
      const g = await createGroup([a!, b!]);
      const before = await versionsOf('Users', [a!, b!]);
      const groupBefore = await versionOf('Groups', g);
      await tick();
      const r = await patch('Groups', g, [{ op: 'remove', path: `members[value eq "${a}"]` }]);
      expect(r.status).toBe(204);
      const after = await versionsOf('Users', [a!, b!]);
      expectBumped(before[0]!, after[0]!);
      expect(after[1]).toEqual(before[1]);
      expect(await groupsOf(a!)).toEqual([]);
      const groupAfter = await versionOf('Groups', g);
      expectBumped(groupBefore, groupAfter);

      // Adding a member already there, removing one that is not: nothing changes anywhere.
      await tick();
      const noop = await patch('Groups', g, [
        { op: 'add', path: 'members', value: [{ value: b }] },
        { op: 'remove', path: `members[value eq "${a}"]` },
      ]);
      expect(noop.status).toBe(204);
      expect(await versionsOf('Users', [a!, b!])).toEqual(after);
      expect(await versionOf('Groups', g)).toEqual(groupAfter);
    });

    it('an add and a remove of the same user in one PATCH cancel out: that user keeps its version', async () => {
      const [a, b] = await createUsers(2);
      const g = await createGroup();
      const before = await versionsOf('Users', [a!, b!]);
      await tick();
      const r = await patch('Groups', g, [
        { op: 'add', path: 'members', value: [{ value: a }, { value: b }] },
        { op: 'remove', path: `members[value eq "${a}"]` },
      ]);
      expect(r.status).toBe(204);
      const after = await versionsOf('Users', [a!, b!]);
      expect(after[0]).toEqual(before[0]);
      expectBumped(before[1]!, after[1]!);
    });

    it('PATCH replace members: users that left or joined change, users that stayed do not', async () => {
      const [left, stayed, joined] = await createUsers(3);
      const g = await createGroup([left!, stayed!]);
      const before = await versionsOf('Users', [left!, stayed!, joined!]);
      await tick();
      const r = await patch('Groups', g, [
        { op: 'replace', path: 'members', value: [{ value: stayed }, { value: joined }] },
      ]);
      expect(r.status).toBe(204);
      const after = await versionsOf('Users', [left!, stayed!, joined!]);
      expectBumped(before[0]!, after[0]!);
      expect(after[1]).toEqual(before[1]);
      expectBumped(before[2]!, after[2]!);
    });

    it('PUT with a new member list: users that left or joined change, users that stayed do not', async () => {
      const [left, stayed, joined] = await createUsers(3);
      const g = await createGroup([left!, stayed!]);
      const name = (await get('Groups', g)).body.displayName as string;
      const before = await versionsOf('Users', [left!, stayed!, joined!]);
      await tick();
      const r = await s.request('PUT', `/scim/v2/Groups/${g}`, {
        token,
        body: {
          schemas: [GROUP],
          displayName: name,
          members: [{ value: stayed }, { value: joined }],
        },
      });
      expect(r.status).toBe(200);
      const after = await versionsOf('Users', [left!, stayed!, joined!]);
      expectBumped(before[0]!, after[0]!);
      expect(after[1]).toEqual(before[1]);
      expectBumped(before[2]!, after[2]!);
    });

    it('POST a group with members: the members change', async () => {
      const [a, other] = await createUsers(2);
      const before = await versionsOf('Users', [a!, other!]);
      await tick();
      const g = await createGroup([a!]);
      const after = await versionsOf('Users', [a!, other!]);
      expectBumped(before[0]!, after[0]!);
      expect(after[1]).toEqual(before[1]);
      expect(await groupsOf(a!)).toEqual([g]);
    });

    it('DELETE a group: its members change (it leaves their groups), other users do not', async () => {
      const [a, b, other] = await createUsers(3);
      const g = await createGroup([a!, b!]);
      const before = await versionsOf('Users', [a!, b!, other!]);
      await tick();
      expect((await s.request('DELETE', `/scim/v2/Groups/${g}`, { token })).status).toBe(204);
      const after = await versionsOf('Users', [a!, b!, other!]);
      expectBumped(before[0]!, after[0]!);
      expectBumped(before[1]!, after[1]!);
      expect(after[2]).toEqual(before[2]);
      await expectStaleEtagRefused('Users', b!, before[1]!);
    });

    it("renaming a group changes its members' groups[].display: each member changes once, also one added in the same PUT", async () => {
      const [a, b, other] = await createUsers(3);
      const g = await createGroup([a!]);
      const before = await versionsOf('Users', [a!, b!, other!]);
      await tick();
      const r = await s.request('PUT', `/scim/v2/Groups/${g}`, {
        token,
        body: {
          schemas: [GROUP],
          displayName: `Renamed ${g}`,
          members: [{ value: a }, { value: b }],
        },
      });
      expect(r.status).toBe(200);
      const after = await versionsOf('Users', [a!, b!, other!]);
      expectBumped(before[0]!, after[0]!);
      expectBumped(before[1]!, after[1]!);
      expect(after[2]).toEqual(before[2]);
      expect((await get('Users', a!)).body.groups).toEqual([
        expect.objectContaining({ value: g, display: `Renamed ${g}` }),
      ]);

      // A PATCH of another attribute (externalId is in no user's representation) leaves them alone.
      await tick();
      expect(
        (await patch('Groups', g, [{ op: 'replace', path: 'externalId', value: 'ext-1' }])).status,
      ).toBe(204);
      expect(await versionsOf('Users', [a!, b!])).toEqual(after.slice(0, 2));
    });

    it('a PATCH adding 100 members bumps the 100 users with one statement (not one per user) and stages no user events', async () => {
      const ids = await createUsers(100);
      const g = await createGroup();
      const before = await versionsOf('Users', ids);
      const db = s.app.get(PrismaService);
      const eventsBefore = await db.outbox.count();
      // Every statement any pooled connection sends, counted on the pool's client class.
      const pool = s.app.get<Pool>(PG_POOL);
      const client = await pool.connect();
      const proto = Object.getPrototypeOf(client) as { query: (...args: unknown[]) => unknown };
      client.release();
      const spy = jest.spyOn(proto, 'query');
      let texts: string[];
      try {
        await tick();
        await addMembers(g, ids);
        texts = spy.mock.calls.map(([q]) =>
          typeof q === 'string' ? q : String((q as { text?: string }).text),
        );
      } finally {
        spy.mockRestore();
      }
      expect(texts.length).toBeGreaterThan(0);
      expect(texts.filter((t) => /UPDATE scim_users/.test(t))).toHaveLength(1);
      const after = await versionsOf('Users', ids);
      after.forEach((v, i) => expectBumped(before[i]!, v));
      // The membership change is told once, by the group's event naming the users.
      const events = await db.outbox.findMany({
        orderBy: { createdAt: 'asc' },
        skip: eventsBefore,
      });
      expect(events.map((e) => e.subject)).toEqual(['scim.group.updated.v1']);
      expect((events[0]!.payload as { membersAdded: string[] }).membersAdded.sort()).toEqual(
        [...ids].sort(),
      );
    });
  });

  describe("a group's members changed by a user write", () => {
    it('DELETE a user: each group it was in changes, other groups do not; the old ETag gets 412', async () => {
      const [gone, stays] = await createUsers(2);
      const g1 = await createGroup([gone!, stays!]);
      const g2 = await createGroup([gone!]);
      const other = await createGroup([stays!]);
      const before = await versionsOf('Groups', [g1, g2, other]);
      await tick();
      expect((await s.request('DELETE', `/scim/v2/Users/${gone}`, { token })).status).toBe(204);
      const after = await versionsOf('Groups', [g1, g2, other]);
      expectBumped(before[0]!, after[0]!);
      expectBumped(before[1]!, after[1]!);
      expect(after[2]).toEqual(before[2]);
      expect(await membersOf(g1)).toEqual([stays]);
      expect(await membersOf(g2)).toEqual([]);
      await expectStaleEtagRefused('Groups', g1, before[0]!);
      // The user that stayed was not touched by its co-member's delete.
      expect(await groupsOf(stays!)).toEqual([g1, other].sort());
    });

    it('a refused DELETE (stale If-Match) changes no group', async () => {
      const u = await createUser();
      const g = await createGroup([u]);
      const before = await versionOf('Groups', g);
      const r = await s.request('DELETE', `/scim/v2/Users/${u}`, {
        token,
        headers: { 'if-match': 'W/"999"' },
      });
      expectScimError(r, 412);
      expect(await versionOf('Groups', g)).toEqual(before);
    });

    it("a user's new displayName changes its groups (members[].display); other user changes do not", async () => {
      const u = await createUser();
      const g = await createGroup([u]);
      const other = await createGroup();
      const before = await versionsOf('Groups', [g, other]);
      await tick();
      expect(
        (await patch('Users', u, [{ op: 'replace', path: 'title', value: 'Engineer' }])).status,
      ).toBe(200);
      expect(await versionsOf('Groups', [g, other])).toEqual(before);
      expect(
        (await patch('Users', u, [{ op: 'replace', path: 'displayName', value: 'New Name' }]))
          .status,
      ).toBe(200);
      const after = await versionsOf('Groups', [g, other]);
      expectBumped(before[0]!, after[0]!);
      expect(after[1]).toEqual(before[1]);
      expect((await get('Groups', g)).body.members).toEqual([
        expect.objectContaining({ value: u, display: 'New Name' }),
      ]);
      // A no-op PATCH of the user (same displayName) writes nothing to either.
      const userNow = await versionOf('Users', u);
      await tick();
      expect(
        (await patch('Users', u, [{ op: 'replace', path: 'displayName', value: 'New Name' }]))
          .status,
      ).toBe(200);
      expect(await versionOf('Users', u)).toEqual(userNow);
      expect(await versionsOf('Groups', [g, other])).toEqual(after);
    });

    it('the retention cleanup purging a user changes the groups it was in, and only those', async () => {
      const [purged, kept] = await createUsers(2);
      const g = await createGroup([purged!, kept!]);
      const other = await createGroup([kept!]);
      expect(
        (await patch('Users', purged!, [{ op: 'replace', path: 'active', value: false }])).status,
      ).toBe(200);
      await s.app.get(PrismaService).scimUser.update({
        where: { id: purged! },
        data: { deactivatedAt: new Date(Date.now() - 45 * 86_400_000) },
      });
      const before = await versionsOf('Groups', [g, other]);
      await tick();
      expect((await s.app.get(CleanupService).run('versions', false)).purged).toBe(1);
      const after = await versionsOf('Groups', [g, other]);
      expectBumped(before[0]!, after[0]!);
      expect(after[1]).toEqual(before[1]);
      expect(await membersOf(g)).toEqual([kept]);
      await expectStaleEtagRefused('Groups', g, before[0]!);
    });
  });

  describe('concurrent writes', () => {
    it('group PATCHes, user DELETEs and user PATCHes at once: no error, no lost update, every version counted', async () => {
      const joiners = await createUsers(5);
      const doomed = await createUsers(3);
      const renamed = await createUsers(2);
      const groups: string[] = [];
      for (let i = 0; i < 5; i++) groups.push(await createGroup([...doomed, ...renamed]));
      const joinersBefore = await versionsOf('Users', joiners);
      const renamedBefore = await versionsOf('Users', renamed);
      const groupsBefore = await versionsOf('Groups', groups);
      // Each group adds the joiners in another order: locks taken in request order would collide.
      const order = (i: number) => [...joiners.slice(i), ...joiners.slice(0, i)].reverse();
      const replies = await Promise.all([
        ...groups.map((g, i) =>
          patch('Groups', g, [
            { op: 'add', path: 'members', value: order(i).map((value) => ({ value })) },
          ]),
        ),
        ...doomed.map((u) => s.request('DELETE', `/scim/v2/Users/${u}`, { token })),
        ...joiners
          .slice(0, 3)
          .map((u) => patch('Users', u, [{ op: 'replace', path: 'title', value: `t-${u}` }])),
        ...renamed.map((u) =>
          patch('Users', u, [{ op: 'replace', path: 'displayName', value: `d-${u}` }]),
        ),
      ]);
      expect(replies.map((r) => r.status)).toEqual([
        ...groups.map(() => 204),
        ...doomed.map(() => 204),
        ...joiners.slice(0, 3).map(() => 200),
        ...renamed.map(() => 200),
      ]);
      // Joiners: one new version per group that added them, plus their own PATCH; nothing lost.
      const joinersAfter = await versionsOf('Users', joiners);
      joiners.forEach((u, i) =>
        expect(number(joinersAfter[i]!)).toBe(
          number(joinersBefore[i]!) + groups.length + (i < 3 ? 1 : 0),
        ),
      );
      for (const u of joiners.slice(0, 3))
        expect((await get('Users', u)).body.title).toBe(`t-${u}`);
      for (const u of joiners) expect(await groupsOf(u)).toEqual([...groups].sort());
      // Renamed users: their own PATCH only (the group PATCHes did not touch their membership).
      const renamedAfter = await versionsOf('Users', renamed);
      renamed.forEach((_, i) =>
        expect(number(renamedAfter[i]!)).toBe(number(renamedBefore[i]!) + 1),
      );
      // Groups: their own PATCH, one per deleted member, one per member renamed.
      const groupsAfter = await versionsOf('Groups', groups);
      groups.forEach((_, i) =>
        expect(number(groupsAfter[i]!)).toBe(
          number(groupsBefore[i]!) + 1 + doomed.length + renamed.length,
        ),
      );
      for (const g of groups) expect(await membersOf(g)).toEqual([...joiners, ...renamed].sort());
    });
  });
});
