import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PrismaService } from '../../src/db/prisma.service';
import { hashToken } from '../../src/tokens/token-secret';
import { TokenIssuer } from '@idp/testing';
import {
  ADMIN_AUDIENCE,
  USER,
  adminEnv,
  startScim,
  startScimWithAdmin,
  type ScimAdminApp,
} from '../support/scim-app';

const cli = join(__dirname, '..', '..', 'dist', 'cli', 'admin-cli.js');
const DAY = 86_400_000;

interface Entry {
  id: string;
  at: string;
  actor: string;
  action: string;
  directoryId: string | null;
  targetId: string | null;
  detail: Record<string, unknown> | null;
}

// Every admin change (API, CLI, scheduled purge) leaves who/what/when in admin_audit, written with
// the change itself; the trail is read-only and paged on the admin API and holds ids, not secrets.
describe('admin API: audit trail', () => {
  let app: ScimAdminApp;
  let ops: string;
  beforeAll(async () => {
    app = await startScimWithAdmin({ SCIM_MAX_TOKENS_PER_DIRECTORY: '1' });
    ops = await app.idp.appToken({ roles: ['Scim.Admin'], azp: 'ops-automation' });
  });
  afterAll(() => app.close());

  const asOps = (method: string, url: string, body?: unknown) =>
    app.s.request(method, url, {
      token: ops,
      body,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    });
  const trail = async (query: string): Promise<Entry[]> => {
    const r = await app.asAdmin('GET', `/admin/audit?${query}`);
    expect(r.status).toBe(200);
    return r.body.items as Entry[];
  };

  it('records each change with its actor, newest first, ids only', async () => {
    await asOps('POST', '/admin/directories', { id: 'audited', maxTokens: 2 });
    await asOps('PUT', '/admin/directories/audited', { uniqueGroupDisplayName: false });
    const t = await asOps('POST', '/admin/directories/audited/tokens', { name: 'Entra Zürich' });
    expect(t.status).toBe(201);
    await asOps('DELETE', `/admin/directories/audited/tokens/${t.body.id}`);
    // Revoking again changes nothing and records nothing.
    await asOps('DELETE', `/admin/directories/audited/tokens/${t.body.id}`);
    // Refused changes are not recorded.
    expect((await asOps('POST', '/admin/directories', { id: 'audited' })).status).toBe(409);
    expect((await asOps('PUT', '/admin/directories/audited', { profile: 'gcp' })).status).toBe(400);

    // A purge of a deactivated user, by the admin API.
    const scim = await asOps('POST', '/admin/directories/audited/tokens', { name: 'second' });
    const u = await app.s.request('POST', '/scim/v2/Users', {
      token: scim.body.token,
      body: { schemas: [USER], userName: 'gone@audited.example', active: false },
    });
    expect(u.status).toBe(201);
    await app.s.app.get(PrismaService).scimUser.update({
      where: { id: u.body.id },
      data: { deactivatedAt: new Date(Date.now() - 200 * DAY) },
    });
    const purge = await asOps('POST', '/admin/directories/audited/cleanup?dryRun=false');
    expect(purge.body.purged).toBe(1);
    // A dry run changes nothing and records nothing.
    await asOps('POST', '/admin/directories/audited/cleanup');

    const entries = await trail('directoryId=audited');
    expect(entries.map((e) => [e.action, e.actor, e.targetId])).toEqual([
      ['cleanup.purge', 'app:ops-automation', null],
      ['token.create', 'app:ops-automation', scim.body.id],
      ['token.revoke', 'app:ops-automation', t.body.id],
      ['token.create', 'app:ops-automation', t.body.id],
      ['directory.update', 'app:ops-automation', 'audited'],
      ['directory.create', 'app:ops-automation', 'audited'],
    ]);
    expect(entries[0]?.detail).toMatchObject({ userIds: [u.body.id] });
    expect(entries.at(-1)?.detail).toEqual({ maxTokens: 2 });
    expect(entries[4]?.detail).toEqual({ uniqueGroupDisplayName: false });
    for (const e of entries) {
      expect(e.directoryId).toBe('audited');
      expect(Date.parse(e.at)).toBeGreaterThan(Date.now() - 60_000);
    }
    // No secret, hash, token name or user name anywhere in the trail.
    const text = JSON.stringify(
      await app.s.app.get(PrismaService).adminAudit.findMany(),
      (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v),
    );
    for (const secret of [
      t.body.token,
      hashToken(t.body.token),
      scim.body.token,
      'Zürich',
      'gone@audited',
    ])
      expect(text).not.toContain(secret);
  });

  it('records nothing when the change fails (at the token cap), and the deletion of a directory outlives it', async () => {
    await app.asAdmin('POST', '/admin/directories', { id: 'audited-cap' });
    await app.asAdmin('POST', '/admin/directories/audited-cap/tokens', { name: 'one' });
    expect(
      (await app.asAdmin('POST', '/admin/directories/audited-cap/tokens', { name: 'two' })).status,
    ).toBe(409);
    expect((await trail('directoryId=audited-cap&action=token.create')).length).toBe(1);
    await app.asAdmin('DELETE', '/admin/directories/audited-cap?force=true');
    const [deleted] = await trail('directoryId=audited-cap');
    expect(deleted).toMatchObject({
      action: 'directory.delete',
      detail: { force: true, users: 0, groups: 0, liveTokens: 1 },
    });
  });

  it('records CLI changes with the operating-system user', async () => {
    const env = { PATH: process.env.PATH, DATABASE_URL: app.s.databaseUrl };
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [cli, 'directory', 'create', 'audited-cli'], { env }, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    const [created] = await trail('directoryId=audited-cli');
    expect(created).toMatchObject({
      action: 'directory.create',
      actor: expect.stringMatching(/^cli:.+/),
    });
  });

  it('pages newest first with limit and before, filters by action, and is read-only', async () => {
    for (let i = 0; i < 5; i++)
      await app.asAdmin('POST', '/admin/directories', { id: `audit-page-${i}` });
    const all = await trail('action=directory.create&limit=1000');
    const seen: string[] = [];
    let before: string | null = null;
    for (let i = 0; i < 20; i++) {
      const r = await app.asAdmin(
        'GET',
        `/admin/audit?action=directory.create&limit=2${before ? `&before=${before}` : ''}`,
      );
      seen.push(...(r.body.items as Entry[]).map((e) => e.id));
      before = r.body.next;
      if (before === null) break;
    }
    expect(seen).toEqual(all.map((e) => e.id));
    expect(all.map((e) => BigInt(e.id))).toEqual(
      [...all.map((e) => BigInt(e.id))].sort((a, b) => (a > b ? -1 : 1)),
    );
    expect(
      all.filter((e) => e.directoryId?.startsWith('audit-page-')).map((e) => e.directoryId),
    ).toEqual(['audit-page-4', 'audit-page-3', 'audit-page-2', 'audit-page-1', 'audit-page-0']);
    for (const q of [
      'limit=0',
      'before=x',
      'action=token.delete',
      'directoryId=%3Cx%3E',
      'actor=me',
    ])
      expect((await app.asAdmin('GET', `/admin/audit?${q}`)).status).toBe(400);
    expect((await app.asAdmin('POST', '/admin/audit', {})).status).toBe(405);
    expect((await app.s.request('GET', '/admin/audit')).status).toBe(401);
  });
});

// The trail is kept SCIM_AUDIT_RETENTION_DAYS (default 365) by the scheduled cleanup job, like the
// provisioning log; 0 keeps it forever.
describe('admin audit retention', () => {
  let idp: TokenIssuer;
  beforeAll(async () => {
    idp = await TokenIssuer.start({ audience: ADMIN_AUDIENCE });
  });
  afterAll(() => idp.stop());

  /** Directory ids of the trail, through the admin API, once the cleanup job has run twice. */
  async function afterCleanup(env: Record<string, string>): Promise<string[]> {
    const s = await startScim(
      { ...adminEnv(idp), SCIM_CLEANUP_INTERVAL_MS: '1000', ...env },
      { background: true },
    );
    try {
      const admin = await idp.appToken({ roles: ['Scim.Admin'] });
      await s.app.get(PrismaService).$executeRaw`
        INSERT INTO admin_audit (at, actor, action, directory_id)
        VALUES (now() - interval '400 days', 'app:ops', 'directory.create', 'ancient'),
               (now() - interval '20 days', 'app:ops', 'directory.create', 'recent')`;
      expect(
        (
          await s.request('POST', '/admin/directories', {
            token: admin,
            body: { id: 'today' },
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      ).toBe(201);
      await new Promise((r) => setTimeout(r, 2500));
      const r = await s.request('GET', '/admin/audit?limit=1000', { token: admin });
      expect(r.status).toBe(200);
      return (r.body.items as Entry[]).map((e) => e.directoryId ?? '').sort();
    } finally {
      await s.close();
    }
  }

  it('deletes entries older than SCIM_AUDIT_RETENTION_DAYS and keeps the others', async () => {
    expect(await afterCleanup({ SCIM_AUDIT_RETENTION_DAYS: '30' })).toEqual(['recent', 'today']);
  });

  it('keeps every entry with SCIM_AUDIT_RETENTION_DAYS=0', async () => {
    expect(await afterCleanup({ SCIM_AUDIT_RETENTION_DAYS: '0' })).toEqual([
      'ancient',
      'recent',
      'today',
    ]);
  });
});
