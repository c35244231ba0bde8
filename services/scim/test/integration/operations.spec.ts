import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { TokenIssuer } from '@idp/testing';
import { CleanupService } from '../../src/cleanup/cleanup.service';
import { PrismaService } from '../../src/db/prisma.service';
import { OutboxRelayService } from '../../src/events/outbox-relay.service';
import { ProvisioningLogService } from '../../src/provisioning-log/provisioning-log.service';
import { TokenExpiryService } from '../../src/tokens/token-expiry.service';
import { TokensService } from '../../src/tokens/tokens.service';
import {
  GROUP,
  patchOp,
  USER,
  type ScimTestApp,
  startScimWithAdmin,
  type ScimAdminApp,
  ADMIN_AUDIENCE,
} from '../support/scim-app';

const DAY = 86_400_000;

describe('operations: admin API, tokens, provisioning log, cleanup, events', () => {
  let s: ScimTestApp;
  let idp: TokenIssuer;
  let app: ScimAdminApp;
  beforeAll(async () => {
    app = await startScimWithAdmin({
      // A list, as for Entra: App ID URI (v1.0 tokens) and client id (v2.0 tokens).
      SCIM_ADMIN_AUDIENCE: `api://scim-other, ${ADMIN_AUDIENCE}`,
      SCIM_MAX_TOKENS_PER_DIRECTORY: '2',
      SCIM_DEACTIVATED_RETENTION_DAYS: '30',
    });
    ({ s, idp } = app);
  });
  afterAll(() => app.close());

  const asAdmin: ScimAdminApp['asAdmin'] = (...a) => app.asAdmin(...a);

  describe('admin endpoints', () => {
    it('need an Entra app-only token with the Scim.Admin role; SCIM tokens are refused', async () => {
      const scimToken = await s.directory('locked');
      expect((await s.request('GET', '/admin/directories/locked/tokens')).status).toBe(401);
      const withScim = await s.request('GET', '/admin/directories/locked/tokens', {
        token: scimToken,
      });
      expect(withScim.status).toBe(401);
      expect(withScim.headers['www-authenticate']).toMatch(/^Bearer/);
      const noRole = await s.request('GET', '/admin/directories/locked/tokens', {
        token: await idp.appToken({ roles: ['Other.Role'] }),
      });
      expect(noRole.status).toBe(403);
      const wrongAud = await s.request('GET', '/admin/directories/locked/tokens', {
        token: await idp.appToken({ aud: 'api://other', roles: ['Scim.Admin'] }),
      });
      expect(wrongAud.status).toBe(401);
      expect((await asAdmin('GET', '/admin/directories/locked/tokens')).status).toBe(200);
    });

    it('set a directory profile', async () => {
      await asAdmin('POST', '/admin/directories', { id: 'prof' });
      const r = await asAdmin('PUT', '/admin/directories/prof', { profile: 'aws' });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: 'prof', profile: 'aws', maxTokens: null });
      const capped = await asAdmin('PUT', '/admin/directories/prof', { maxTokens: 1 });
      expect(capped.body).toMatchObject({ profile: 'aws', maxTokens: 1 });
      expect(
        (await asAdmin('POST', '/admin/directories/prof/tokens', { name: 'one' })).status,
      ).toBe(201);
      expect(
        (await asAdmin('POST', '/admin/directories/prof/tokens', { name: 'two' })).status,
      ).toBe(409);
      expect((await asAdmin('PUT', '/admin/directories/prof', { profile: 'gcp' })).status).toBe(
        400,
      );
    });
  });

  describe('tokens', () => {
    it('are shown once, stored hashed, listed with metadata, capped per directory, and revocable', async () => {
      await asAdmin('POST', '/admin/directories', { id: 'tok' });
      const created = await asAdmin('POST', '/admin/directories/tok/tokens', {
        name: 'Entra connector',
      });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/^scim_/);
      expect(created.headers['cache-control']).toBe('no-store');
      const days = (Date.parse(created.body.expiresAt) - Date.parse(created.body.createdAt)) / DAY;
      expect(days).toBe(365);
      const stored = await s.app
        .get(PrismaService)
        .scimToken.findUnique({ where: { id: created.body.id } });
      expect(stored?.hash).not.toContain(created.body.token);
      expect(JSON.stringify(stored)).not.toContain(created.body.token);

      const use = await s.request('GET', '/scim/v2/Users', { token: created.body.token });
      expect(use.status).toBe(200);
      const list = await asAdmin('GET', '/admin/directories/tok/tokens');
      expect(list.body.items).toEqual([
        {
          id: created.body.id,
          directoryId: 'tok',
          name: 'Entra connector',
          createdAt: created.body.createdAt,
          lastUsedAt: expect.any(String),
          expiresAt: created.body.expiresAt,
          revokedAt: null,
          status: 'active',
        },
      ]);
      expect(JSON.stringify(list.body)).not.toContain(created.body.token);

      expect(
        (await asAdmin('POST', '/admin/directories/tok/tokens', { name: 'second' })).status,
      ).toBe(201);
      const third = await asAdmin('POST', '/admin/directories/tok/tokens', { name: 'third' });
      expect(third.status).toBe(409);

      const revoked = await asAdmin('DELETE', `/admin/directories/tok/tokens/${created.body.id}`);
      expect(revoked.body.status).toBe('revoked');
      const after = await s.request('GET', '/scim/v2/Users', { token: created.body.token });
      expect(after.status).toBe(401);
      expect(after.headers['www-authenticate']).toMatch(/invalid_token/);
      expect(
        (await asAdmin('POST', '/admin/directories/tok/tokens', { name: 'third' })).status,
      ).toBe(201);
      expect((await asAdmin('DELETE', '/admin/directories/tok/tokens/nope')).status).toBe(404);
    });

    it('stop working when expired', async () => {
      await asAdmin('POST', '/admin/directories', { id: 'short' });
      // Issued two days ago for one day.
      const { token } = await s.app
        .get(TokensService)
        .create('short', 'short', 1, new Date(Date.now() - 2 * DAY));
      expect((await s.request('GET', '/scim/v2/Users', { token })).status).toBe(401);
      expect((await asAdmin('GET', '/admin/directories/short/tokens')).body.items[0].status).toBe(
        'expired',
      );
      // The directory stays in the expiry gauge at 0 (an alert on it must not clear now), until
      // its tokens are revoked on purpose.
      const expiry = s.app.get(TokenExpiryService);
      await expiry.check(new Date());
      expect((await s.request('GET', '/metrics')).text).toMatch(
        /scim_token_expiry_seconds\{directory="short"\} 0\n/,
      );
      const [t] = (await asAdmin('GET', '/admin/directories/short/tokens')).body.items;
      await asAdmin('DELETE', `/admin/directories/short/tokens/${t.id}`);
      await expiry.check(new Date());
      expect((await s.request('GET', '/metrics')).text).not.toMatch(
        /scim_token_expiry_seconds\{directory="short"\}/,
      );
    });

    it('warn from 30 days before expiry: log, metric and a scim.token.expiring event, at most daily', async () => {
      await asAdmin('POST', '/admin/directories', { id: 'warn' });
      const created = await asAdmin('POST', '/admin/directories/warn/tokens', {
        name: 'expiring',
        lifetimeDays: 40,
      });
      const expiry = s.app.get(TokenExpiryService);
      const now = Date.now();
      expect((await expiry.check(new Date(now + 5 * DAY))).map((t) => t.tokenId)).not.toContain(
        created.body.id,
      );
      const warned = await expiry.check(new Date(now + 15 * DAY));
      expect(warned.find((t) => t.tokenId === created.body.id)).toMatchObject({
        directoryId: 'warn',
        daysLeft: 25,
      });
      expect(
        (await expiry.check(new Date(now + 15 * DAY + 3600_000))).map((t) => t.tokenId),
      ).not.toContain(created.body.id);
      expect(
        (await expiry.check(new Date(now + 16 * DAY + 3600_000))).map((t) => t.tokenId),
      ).toContain(created.body.id);
      const events = await s.app
        .get(PrismaService)
        .outbox.findMany({ where: { subject: 'scim.token.expiring.v1' } });
      expect(events.map((e) => e.payload)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            tokenId: created.body.id,
            tokenName: 'expiring',
            daysLeft: 25,
          }),
        ]),
      );
      const metrics = await s.request('GET', '/metrics');
      expect(metrics.text).toMatch(/scim_tokens_expiring\{directory="warn"\} 1/);
    });
  });

  describe('provisioning log', () => {
    it('records every request and is queryable by time, resource and outcome, and exportable as NDJSON', async () => {
      const token = await s.directory('logged');
      const since = new Date(Date.now() - 1000).toISOString();
      const u = await s.request('POST', '/logged/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: 'logged@contoso.com' },
        headers: { 'x-request-id': 'req-create-1' },
      });
      await s.request('POST', '/logged/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: 'LOGGED@contoso.com' },
      });
      await s.request('PATCH', `/logged/scim/v2/Users/${u.body.id}`, {
        token,
        body: patchOp({ op: 'replace', path: 'active', value: 'False' }),
      });
      await s.request(
        'GET',
        `/logged/scim/v2/Groups?filter=${encodeURIComponent('nosuch co "x"')}`,
        { token },
      );
      await s.request('POST', '/logged/scim/v2/Groups', {
        token,
        body: { schemas: [GROUP], displayName: 'g' },
      });
      await s.app.get(ProvisioningLogService).flush();

      const all = await asAdmin(
        'GET',
        `/admin/directories/logged/provisioning-log?since=${encodeURIComponent(since)}`,
      );
      expect(all.status).toBe(200);
      expect(all.body.items).toHaveLength(5);
      expect(all.body.items[4]).toMatchObject({
        requestId: 'req-create-1',
        method: 'POST',
        operation: 'create',
        resourceType: 'User',
        resourceId: u.body.id,
        outcome: 'success',
        status: 201,
        durationMs: expect.any(Number),
      });
      const failures = await asAdmin(
        'GET',
        '/admin/directories/logged/provisioning-log?outcome=failure',
      );
      expect(
        failures.body.items.map((i: { status: number; scimType: string }) => [
          i.status,
          i.scimType,
        ]),
      ).toEqual([
        [400, 'invalidFilter'],
        [409, 'uniqueness'],
      ]);
      const groups = await asAdmin(
        'GET',
        '/admin/directories/logged/provisioning-log?resourceType=Group',
      );
      expect(groups.body.items).toHaveLength(2);
      const future = await asAdmin(
        'GET',
        `/admin/directories/logged/provisioning-log?since=${encodeURIComponent(new Date(Date.now() + DAY).toISOString())}`,
      );
      expect(future.body.items).toEqual([]);
      const page = await asAdmin('GET', '/admin/directories/logged/provisioning-log?limit=2');
      const page2 = await asAdmin(
        'GET',
        `/admin/directories/logged/provisioning-log?limit=2&before=${page.body.next}`,
      );
      expect(page2.body.items).toHaveLength(2);
      expect(page2.body.items[0].id).not.toBe(page.body.items[1].id);
      for (const before of ['9223372036854775808', '9999999999999999999', '-1', '1e3', 'x']) {
        const bad = await asAdmin(
          'GET',
          `/admin/directories/logged/provisioning-log?before=${before}`,
        );
        expect({ before, status: bad.status }).toEqual({ before, status: 400 });
      }
      const last = await asAdmin(
        'GET',
        '/admin/directories/logged/provisioning-log?before=9223372036854775807',
      );
      expect(last.status).toBe(200);

      const nd = await asAdmin(
        'GET',
        '/admin/directories/logged/provisioning-log/export?resourceType=User',
      );
      expect(nd.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const lines = nd.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { operation: string });
      expect(lines.map((l) => l.operation)).toEqual(['create', 'create', 'update']);
      // Nothing personal in the log: no userName, no token.
      expect(nd.text).not.toContain('logged@contoso.com');
      expect(nd.text).not.toContain(token);
    });

    it('drops rows older than the retention', async () => {
      const db = s.app.get(PrismaService);
      await db.provisioningLog.create({
        data: {
          directoryId: 'logged',
          at: new Date(Date.now() - 31 * DAY),
          requestId: 'old',
          method: 'GET',
          operation: 'list',
          resourceType: 'User',
          outcome: 'success',
          status: 200,
          durationMs: 1,
        },
      });
      expect(await s.app.get(ProvisioningLogService).purgeExpired()).toBe(1);
      expect(await db.provisioningLog.count({ where: { requestId: 'old' } })).toBe(0);
    });
  });

  describe('cleanup', () => {
    it('reports, then purges users deactivated longer than the retention (with events), keeping recent and active ones', async () => {
      const token = await s.directory('clean');
      const mk = async (userName: string) =>
        (
          await s.request('POST', '/clean/scim/v2/Users', {
            token,
            body: { schemas: [USER], userName },
          })
        ).body.id as string;
      const [old, recent, active] = [await mk('old'), await mk('recent'), await mk('active')];
      const g = await s.request('POST', '/clean/scim/v2/Groups', {
        token,
        body: {
          schemas: [GROUP],
          displayName: 'team',
          members: [{ value: old }, { value: active }],
        },
      });
      for (const id of [old, recent])
        await s.request('PATCH', `/clean/scim/v2/Users/${id}`, {
          token,
          body: patchOp({ op: 'Replace', path: 'active', value: 'False' }),
        });
      const db = s.app.get(PrismaService);
      await db.scimUser.update({
        where: { id: old },
        data: { deactivatedAt: new Date(Date.now() - 45 * DAY) },
      });

      const dry = await asAdmin('POST', '/admin/directories/clean/cleanup');
      expect(dry.body).toMatchObject({
        dryRun: true,
        retentionDays: 30,
        purged: 0,
        candidates: [{ id: old, directoryId: 'clean', deactivatedAt: expect.any(String) }],
      });
      expect((await s.request('GET', `/clean/scim/v2/Users/${old}`, { token })).status).toBe(200);

      const run = await asAdmin('POST', '/admin/directories/clean/cleanup?dryRun=false');
      expect(run.body).toMatchObject({ dryRun: false, purged: 1 });
      expect((await s.request('GET', `/clean/scim/v2/Users/${old}`, { token })).status).toBe(404);
      expect((await s.request('GET', `/clean/scim/v2/Users/${recent}`, { token })).status).toBe(
        200,
      );
      const members = (
        await s.request('GET', `/clean/scim/v2/Groups/${g.body.id}`, { token })
      ).body.members.map((m: { value: string }) => m.value);
      expect(members).toEqual([active]);
      const events = (await db.outbox.findMany({ orderBy: { createdAt: 'asc' } })).map((e) => ({
        subject: e.subject,
        p: e.payload as Record<string, unknown>,
      }));
      expect(events).toEqual(
        expect.arrayContaining([
          { subject: 'scim.user.deleted.v1', p: expect.objectContaining({ userId: old }) },
          {
            subject: 'scim.group.updated.v1',
            p: expect.objectContaining({ groupId: g.body.id, membersRemoved: [old] }),
          },
        ]),
      );
      // Another service run is idempotent.
      expect((await s.app.get(CleanupService).run(null, false)).purged).toBe(0);
    });
  });

  describe('events', () => {
    it('reach JetStream through the outbox, including those written while NATS was down', async () => {
      const token = await s.directory('events');
      const relay = s.app.get(OutboxRelayService).relay;
      await relay.flush();
      const nc: NatsConnection = await connect({ servers: s.nats.url });
      const jsm = await jetstreamManager(nc);
      const before = (await jsm.streams.info('SCIM')).state.messages;

      await s.nats.stop();
      const created = await s.request('POST', '/events/scim/v2/Users', {
        token,
        body: { schemas: [USER], userName: 'during-outage' },
      });
      expect(created.status).toBe(201);
      await s.request('PATCH', `/events/scim/v2/Users/${created.body.id}`, {
        token,
        body: patchOp({ op: 'replace', path: 'active', value: false }),
      });
      await s.request('PATCH', `/events/scim/v2/Users/${created.body.id}`, {
        token,
        body: patchOp({ op: 'replace', path: 'active', value: 'True' }),
      });
      await s.request('DELETE', `/events/scim/v2/Users/${created.body.id}`, { token });
      await relay.flush().catch(() => 0);
      expect(await relay.pending()).toBeGreaterThanOrEqual(4);

      await s.nats.start();
      for (let i = 0; i < 100 && (await relay.pending()) > 0; i++) {
        await relay.flush().catch(() => 0);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await relay.pending()).toBe(0);
      await jsm.consumers.add('SCIM', {
        durable_name: 'scim-test',
        filter_subject: 'scim.user.>',
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      const consumer = await jetstream(nc).consumers.get('SCIM', 'scim-test');
      const subjects: string[] = [];
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      for await (const m of batch) {
        if (m.json<{ userId: string }>().userId === created.body.id) subjects.push(m.subject);
        m.ack();
        if (m.info.pending === 0) break;
      }
      expect(subjects).toEqual([
        'scim.user.created.v1',
        'scim.user.deactivated.v1',
        'scim.user.reactivated.v1',
        'scim.user.deleted.v1',
      ]);
      expect((await jsm.streams.info('SCIM')).state.messages).toBeGreaterThan(before);
      await nc.close();
    });
  });
});
