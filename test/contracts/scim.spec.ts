// Producer side of `scim.user.*.v1` / `scim.group.*.v1` / `scim.directory.deleted.v1`: the real scim process provisioned as
// Entra's provisioning service would (token from the admin API with a real Entra app token), and
// every message on the SCIM stream decoded with the contract its subject names.
import * as contracts from '@idp/contracts';
import { CONTRACT_HEADER, decodeEvent, type EventContract } from '@idp/contracts';
import type { StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { call } from '../support/http';
import { startStack, type Stack } from '../support/stack';
import { waitForStream } from '../support/streams';
import { scimAdminToken } from '../support/tokens';

jest.setTimeout(60_000);

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const DIRECTORY = 'fabrikam-entra';

// Every SCIM contract, by subject: a consumer routes on the subject and must find the schema there.
const SCIM_CONTRACTS = [
  contracts.ScimUserCreated,
  contracts.ScimUserUpdated,
  contracts.ScimUserDeactivated,
  contracts.ScimUserReactivated,
  contracts.ScimUserDeleted,
  contracts.ScimGroupCreated,
  contracts.ScimGroupUpdated,
  contracts.ScimGroupDeleted,
  contracts.ScimTokenExpiring,
  contracts.ScimDirectoryDeleted,
] as const;
const bySubject = new Map<string, EventContract>(SCIM_CONTRACTS.map((c) => [c.subject, c]));

/** User and group events only: token warnings interleave on their own schedule. */
const ofResources = (msgs: StoredMsg[]): StoredMsg[] =>
  msgs.filter((m) => !m.subject.startsWith('scim.token.'));

interface Decoded {
  subject: string;
  event: Record<string, unknown>;
}

function decodeAll(msgs: StoredMsg[]): Decoded[] {
  return msgs.map((m) => {
    const c = bySubject.get(m.subject);
    if (!c) throw new Error(`no SCIM contract for subject ${m.subject}`);
    expect(m.header.get(CONTRACT_HEADER)).toBe(c.subject);
    return { subject: m.subject, event: decodeEvent(c, m.data) as Record<string, unknown> };
  });
}

describe('contracts scim.user.*.v1 / scim.group.*.v1 / scim.directory.deleted.v1 (scim → SCIM stream)', () => {
  let stack: Stack;
  let observer: NatsConnection;
  let scimToken: string;
  const scim = (path: string) => `${stack.url('scim')}/${DIRECTORY}/scim/v2${path}`;
  const send = <T>(method: string, path: string, body?: unknown) =>
    call<T>(method, scim(path), { token: scimToken, body, contentType: 'application/scim+json' });

  beforeAll(async () => {
    // Token expiry checked every second (default hourly), so the warning event is observable.
    stack = await startStack({
      services: ['scim'],
      env: { scim: { SCIM_TOKEN_CHECK_INTERVAL_MS: '1000' } },
    });
    observer = await stack.connect('observer');
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('issues a SCIM token through the admin API to an Entra app holding Scim.Admin (and refuses SCIM tokens there)', async () => {
    const admin = await scimAdminToken(stack);
    // Directories exist only once created (admin API).
    const directory = await call('POST', `${stack.url('scim')}/admin/directories`, {
      token: admin,
      body: { id: DIRECTORY },
    });
    expect(directory.status).toBe(201);
    const created = await call<{ id: string; token: string }>(
      'POST',
      `${stack.url('scim')}/admin/directories/${DIRECTORY}/tokens`,
      { token: admin, body: { name: 'Entra provisioning', lifetimeDays: 30 } },
    );
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^scim_/);
    scimToken = created.body.token;
    const withScimToken = await call(
      'GET',
      `${stack.url('scim')}/admin/directories/${DIRECTORY}/tokens`,
      { token: scimToken },
    );
    expect(withScimToken.status).toBe(401);

    // 30 days is inside the default warning window (SCIM_TOKEN_WARN_DAYS=30): scim.token.expiring.v1, once.
    const msgs = await waitForStream(observer, 'SCIM', (m) =>
      m.some((x) => x.subject === contracts.ScimTokenExpiring.subject),
    );
    expect(
      decodeAll(msgs).filter((e) => e.subject === contracts.ScimTokenExpiring.subject),
    ).toEqual([
      {
        subject: 'scim.token.expiring.v1',
        event: {
          eventId: expect.any(String),
          directoryId: DIRECTORY,
          tokenId: created.body.id,
          tokenName: 'Entra provisioning',
          expiresAt: expect.any(String),
          daysLeft: 30,
        },
      },
    ]);
    expect(JSON.stringify(decodeAll(msgs))).not.toContain(scimToken);
  });

  it('publishes conforming user and group events with the membership deltas of each change', async () => {
    const ada = await send<{ id: string }>('POST', '/Users', {
      schemas: [USER],
      userName: 'ada@fabrikam.example',
      externalId: 'ada-ext',
      active: true,
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@fabrikam.example', type: 'work', primary: true }],
    });
    expect(ada.status).toBe(201);
    const alan = await send<{ id: string }>('POST', '/Users', {
      schemas: [USER],
      userName: 'alan@fabrikam.example',
      active: true,
    });
    expect(alan.status).toBe(201);
    const [a, b] = [ada.body.id, alan.body.id];

    const group = await send<{ id: string }>('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineering',
      externalId: 'eng-ext',
      members: [{ value: a }],
    });
    expect(group.status).toBe(201);
    const g = group.body.id;
    // As Entra sends them: one add, then a remove by value filter.
    expect(
      (
        await send('PATCH', `/Groups/${g}`, {
          schemas: [PATCH],
          Operations: [{ op: 'Add', path: 'members', value: [{ value: b }] }],
        })
      ).status,
    ).toBe(204);
    expect(
      (
        await send('PATCH', `/Groups/${g}`, {
          schemas: [PATCH],
          Operations: [{ op: 'Remove', path: `members[value eq "${a}"]` }],
        })
      ).status,
    ).toBe(204);
    const deactivated = await send<{ active: boolean }>('PATCH', `/Users/${a}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(deactivated.status).toBe(200);
    expect(deactivated.body.active).toBe(false);
    // Deleting a member shrinks its groups: the group's delta is part of the contract too.
    expect((await send('DELETE', `/Users/${b}`)).status).toBe(204);

    // Eight events: six requests, and the delete also shrinks the group.
    const msgs = ofResources(
      await waitForStream(observer, 'SCIM', (m) => ofResources(m).length >= 8),
    );
    const events = decodeAll(msgs);
    const common = {
      eventId: expect.any(String),
      directoryId: DIRECTORY,
      occurredAt: expect.any(String),
      requestId: expect.any(String),
    };
    expect(events).toEqual([
      {
        subject: 'scim.user.created.v1',
        event: {
          ...common,
          userId: a,
          externalId: 'ada-ext',
          userName: 'ada@fabrikam.example',
          active: true,
        },
      },
      {
        subject: 'scim.user.created.v1',
        event: {
          ...common,
          userId: b,
          externalId: null,
          userName: 'alan@fabrikam.example',
          active: true,
        },
      },
      {
        subject: 'scim.group.created.v1',
        event: {
          ...common,
          groupId: g,
          externalId: 'eng-ext',
          displayName: 'Engineering',
          membersAdded: [a],
          membersRemoved: [],
        },
      },
      {
        subject: 'scim.group.updated.v1',
        event: {
          ...common,
          groupId: g,
          externalId: 'eng-ext',
          displayName: 'Engineering',
          membersAdded: [b],
          membersRemoved: [],
        },
      },
      {
        subject: 'scim.group.updated.v1',
        event: {
          ...common,
          groupId: g,
          externalId: 'eng-ext',
          displayName: 'Engineering',
          membersAdded: [],
          membersRemoved: [a],
        },
      },
      {
        subject: 'scim.user.deactivated.v1',
        event: {
          ...common,
          userId: a,
          externalId: 'ada-ext',
          userName: 'ada@fabrikam.example',
          active: false,
        },
      },
      {
        subject: 'scim.user.deleted.v1',
        event: {
          ...common,
          userId: b,
          externalId: null,
          userName: 'alan@fabrikam.example',
          active: true,
        },
      },
      {
        subject: 'scim.group.updated.v1',
        event: {
          ...common,
          groupId: g,
          externalId: 'eng-ext',
          displayName: 'Engineering',
          membersAdded: [],
          membersRemoved: [b],
        },
      },
    ]);
    // One JetStream message per event, deduplicated by event id.
    expect(msgs.map((m) => m.header.get('Nats-Msg-Id'))).toEqual(
      events.map((e) => e.event.eventId),
    );
  });

  it('publishes nothing for a refused request (uniqueness conflict, bad PATCH)', async () => {
    const before = ofResources(await waitForStream(observer, 'SCIM', () => true)).length;
    const dup = await send<{ scimType?: string }>('POST', '/Users', {
      schemas: [USER],
      userName: 'ADA@fabrikam.example',
      active: true,
    });
    expect(dup.status).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');
    const users = await send<{ Resources: { id: string }[] }>(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "ada@fabrikam.example"')}`,
    );
    const bad = await send('PATCH', `/Users/${users.body.Resources[0]?.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', path: 'active', value: 'maybe' }],
    });
    expect(bad.status).toBe(400);
    // A later real change is the next event: nothing was staged for the refused ones.
    const next = await send<{ id: string }>('POST', '/Users', {
      schemas: [USER],
      userName: 'grace@fabrikam.example',
      active: true,
    });
    expect(next.status).toBe(201);
    const msgs = ofResources(
      await waitForStream(observer, 'SCIM', (m) => ofResources(m).length > before),
    );
    expect(decodeAll(msgs.slice(before))).toEqual([
      {
        subject: 'scim.user.created.v1',
        event: expect.objectContaining({
          userId: next.body.id,
          userName: 'grace@fabrikam.example',
        }),
      },
    ]);
  });

  it('announces a forced directory delete with one event carrying its counts, before any event of a directory created anew with that id', async () => {
    const before = ofResources(await waitForStream(observer, 'SCIM', () => true)).length;
    const admin = await scimAdminToken(stack);
    const directory = `${stack.url('scim')}/admin/directories/${DIRECTORY}`;
    // Left by the tests above: ada (deactivated) and grace, the Engineering group, one token.
    const deleted = await call('DELETE', `${directory}?force=true`, { token: admin });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ users: 2, groups: 1, liveTokens: 1 });
    // The same id again, with a user: its events come after the delete's, and nothing between
    // them (no scim.user.deleted / scim.group.deleted per removed resource).
    expect(
      (
        await call('POST', `${stack.url('scim')}/admin/directories`, {
          token: admin,
          body: { id: DIRECTORY },
        })
      ).status,
    ).toBe(201);
    const created = await call<{ token: string }>('POST', `${directory}/tokens`, {
      token: admin,
      body: { name: 'Entra provisioning' },
    });
    scimToken = created.body.token;
    const fresh = await send<{ id: string }>('POST', '/Users', {
      schemas: [USER],
      userName: 'ada@fabrikam.example',
      active: true,
    });
    expect(fresh.status).toBe(201);

    const msgs = ofResources(
      await waitForStream(observer, 'SCIM', (m) => ofResources(m).length >= before + 2),
    );
    expect(decodeAll(msgs.slice(before))).toEqual([
      {
        subject: 'scim.directory.deleted.v1',
        event: {
          eventId: expect.any(String),
          directoryId: DIRECTORY,
          occurredAt: expect.any(String),
          requestId: expect.any(String),
          force: true,
          usersRemoved: 2,
          groupsRemoved: 1,
          liveTokensRemoved: 1,
        },
      },
      {
        subject: 'scim.user.created.v1',
        event: expect.objectContaining({ directoryId: DIRECTORY, userId: fresh.body.id }),
      },
    ]);
  });
});
