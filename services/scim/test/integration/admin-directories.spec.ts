import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PrismaService } from '../../src/db/prisma.service';
import { GROUP, USER, startScimWithAdmin, type ScimAdminApp } from '../support/scim-app';

const cli = join(__dirname, '..', '..', 'dist', 'cli', 'admin-cli.js');

// Directories exist only once created (admin API or CLI): a misspelt id is a 404 everywhere,
// never a new directory; deleting one is refused while it holds anything, or removes it all.
describe('admin API: directory lifecycle', () => {
  let app: ScimAdminApp;
  beforeAll(async () => {
    app = await startScimWithAdmin();
  });
  afterAll(() => app.close());

  const asAdmin: ScimAdminApp['asAdmin'] = (...a) => app.asAdmin(...a);
  const db = () => app.s.app.get(PrismaService);
  /** The events staged for a directory (payload.directoryId), oldest first: [subject, payload]. */
  const eventsOf = async (directoryId: string) =>
    (
      await db().outbox.findMany({
        where: { payload: { path: ['directoryId'], equals: directoryId } },
        orderBy: { createdAt: 'asc' },
      })
    ).map((r) => [r.subject, r.payload] as const);
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [cli, ...args],
        { env: { PATH: process.env.PATH, DATABASE_URL: app.s.databaseUrl } },
        (e, stdout, stderr) =>
          resolve({ code: typeof e?.code === 'number' ? e.code : 0, stdout, stderr }),
      ),
    );

  it('creates a directory with POST (201, settings applied), refuses a second one with the same id (409)', async () => {
    const created = await asAdmin('POST', '/admin/directories', {
      id: 'contoso',
      profile: 'aws',
      maxTokens: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: 'contoso',
      profile: 'aws',
      maxTokens: 2,
      uniqueGroupDisplayName: true,
      createdAt: expect.any(String),
    });
    const again = await asAdmin('POST', '/admin/directories', { id: 'contoso' });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: 'conflict', error_description: expect.any(String) });
    // Unchanged by the refused create.
    expect((await asAdmin('GET', '/admin/directories/contoso')).body).toMatchObject({
      profile: 'aws',
      maxTokens: 2,
    });
    for (const body of [
      {},
      { id: 'bad id' },
      { id: 'x'.repeat(65) },
      { id: 'ok', profile: 'gcp' },
    ]) {
      const r = await asAdmin('POST', '/admin/directories', body);
      expect(r.status).toBe(400);
    }
    expect(await db().directory.count({ where: { id: 'ok' } })).toBe(0);
  });

  it('answers 404 on every route of an unknown directory and creates nothing', async () => {
    const json = (method: string, url: string, body?: unknown) => asAdmin(method, url, body);
    const replies = [
      await json('GET', '/admin/directories/contso'),
      await json('PUT', '/admin/directories/contso', { profile: 'aws' }),
      await json('DELETE', '/admin/directories/contso'),
      await json('DELETE', '/admin/directories/contso?force=true'),
      await json('POST', '/admin/directories/contso/tokens', { name: 'Entra' }),
      await json('GET', '/admin/directories/contso/tokens'),
      await json('DELETE', '/admin/directories/contso/tokens/6a1f1b40-0c4e-4c86-9d9e-5f0d3b7c2a10'),
      await json('GET', '/admin/directories/contso/provisioning-log'),
      await json('GET', '/admin/directories/contso/provisioning-log/export'),
      await json('POST', '/admin/directories/contso/cleanup'),
      await json('POST', '/admin/directories/contso/cleanup?dryRun=false'),
    ];
    for (const r of replies) {
      expect({ status: r.status, body: r.body }).toEqual({
        status: 404,
        body: { error: 'not_found', error_description: 'Directory not found' },
      });
    }
    expect(await db().directory.count({ where: { id: 'contso' } })).toBe(0);
    expect(await db().scimToken.count({ where: { directoryId: 'contso' } })).toBe(0);
  });

  it('lists directories by id, paged with limit and after', async () => {
    for (const id of ['page-a', 'page-b', 'page-c'])
      expect((await asAdmin('POST', '/admin/directories', { id })).status).toBe(201);
    const ids: string[] = [];
    let after: string | null = 'page-';
    for (let i = 0; after !== null && i < 10; i++) {
      const r = await asAdmin('GET', `/admin/directories?limit=2&after=${after}`);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      ids.push(...r.body.items.map((d: { id: string }) => d.id));
      after = r.body.next;
    }
    expect(ids.filter((id) => id.startsWith('page-'))).toEqual(['page-a', 'page-b', 'page-c']);
    const first = await asAdmin('GET', '/admin/directories?limit=1');
    expect(first.body).toEqual({
      items: [expect.objectContaining({ id: expect.any(String) })],
      next: first.body.items[0].id,
    });
    for (const q of ['limit=0', 'limit=1001', 'after=%3Cx%3E', 'cursor=a'])
      expect((await asAdmin('GET', `/admin/directories?${q}`)).status).toBe(400);
  });

  it('refuses to delete a directory holding users, groups or live tokens (409, nothing removed); revoked tokens do not count', async () => {
    await asAdmin('POST', '/admin/directories', { id: 'busy-dir' });
    const t = await asAdmin('POST', '/admin/directories/busy-dir/tokens', { name: 'Entra' });
    const token: string = t.body.token;
    const user = await app.s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'kept@busy' },
    });
    expect(user.status).toBe(201);
    const refused = await asAdmin('DELETE', '/admin/directories/busy-dir');
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: 'conflict',
      error_description: expect.stringMatching(
        /1 user\(s\), 0 group\(s\) and 1 live token\(s\).*force=true/,
      ),
    });
    expect((await app.s.request('GET', `/scim/v2/Users/${user.body.id}`, { token })).status).toBe(
      200,
    );
    // A refused delete stages nothing.
    expect((await eventsOf('busy-dir')).map(([subject]) => subject)).toEqual([
      'scim.user.created.v1',
    ]);

    // Only revoked tokens left and nothing else: deleted without force.
    await asAdmin('POST', '/admin/directories', { id: 'spent-dir' });
    const spent = await asAdmin('POST', '/admin/directories/spent-dir/tokens', { name: 'old' });
    await asAdmin('DELETE', `/admin/directories/spent-dir/tokens/${spent.body.id}`);
    const gone = await asAdmin('DELETE', '/admin/directories/spent-dir');
    expect(gone.status).toBe(200);
    expect(gone.body).toEqual({
      id: 'spent-dir',
      deleted: true,
      force: false,
      users: 0,
      groups: 0,
      liveTokens: 0,
    });
    expect(await db().scimToken.count({ where: { directoryId: 'spent-dir' } })).toBe(0);
    // An empty directory's delete is announced too (a consumer may hold the directory itself).
    expect(await eventsOf('spent-dir')).toEqual([
      [
        'scim.directory.deleted.v1',
        expect.objectContaining({
          force: false,
          usersRemoved: 0,
          groupsRemoved: 0,
          liveTokensRemoved: 0,
        }),
      ],
    ]);
    expect((await asAdmin('GET', '/admin/directories/spent-dir')).status).toBe(404);
  });

  it('with force=true removes the directory and everything in it at once; its tokens stop working', async () => {
    await asAdmin('POST', '/admin/directories', { id: 'doomed' });
    const t = await asAdmin('POST', '/admin/directories/doomed/tokens', { name: 'Entra' });
    const token: string = t.body.token;
    const u = await app.s.request('POST', '/scim/v2/Users', {
      token,
      body: { schemas: [USER], userName: 'a@doomed' },
    });
    const g = await app.s.request('POST', '/scim/v2/Groups', {
      token,
      body: { schemas: [GROUP], displayName: 'G', members: [{ value: u.body.id }] },
    });
    expect(g.status).toBe(201);
    // Cached by this replica before the delete.
    expect((await app.s.request('GET', '/scim/v2/Users', { token })).status).toBe(200);
    const r = await asAdmin('DELETE', '/admin/directories/doomed?force=true');
    expect(r.body).toEqual({
      id: 'doomed',
      deleted: true,
      force: true,
      users: 1,
      groups: 1,
      liveTokens: 1,
    });
    expect((await app.s.request('GET', '/scim/v2/Users', { token })).status).toBe(401);
    const left = await Promise.all([
      db().scimUser.count({ where: { directoryId: 'doomed' } }),
      db().scimGroup.count({ where: { directoryId: 'doomed' } }),
      db().scimMembership.count({ where: { groupId: g.body.id } }),
      db().scimToken.count({ where: { directoryId: 'doomed' } }),
      db().directory.count({ where: { id: 'doomed' } }),
    ]);
    expect(left).toEqual([0, 0, 0, 0, 0]);
    // One event for the directory with what it held, in the delete's transaction; no user or
    // group event for what it removed (the user is not deleted from its group first, either).
    expect(await eventsOf('doomed')).toEqual([
      ['scim.user.created.v1', expect.anything()],
      ['scim.group.created.v1', expect.anything()],
      [
        'scim.directory.deleted.v1',
        {
          eventId: expect.any(String),
          directoryId: 'doomed',
          occurredAt: expect.any(String),
          requestId: expect.any(String),
          force: true,
          usersRemoved: 1,
          groupsRemoved: 1,
          liveTokensRemoved: 1,
        },
      ],
    ]);
    expect((await asAdmin('DELETE', '/admin/directories/doomed?force=yes')).status).toBe(400);
  });

  it('keeps a directory that existed before explicit creation working (created by the old implicit path)', async () => {
    // As rows written before this change: a directory row with a token, no audit record.
    const token = await app.s.directory('legacy');
    expect((await app.s.request('GET', '/scim/v2/Users', { token })).status).toBe(200);
    expect((await asAdmin('GET', '/admin/directories/legacy/tokens')).body.items).toHaveLength(1);
  });

  describe('CLI', () => {
    it('the first-token story: directory create, then token create; a token for a misspelt directory fails (exit 1) and creates nothing', async () => {
      const created = await run(['directory', 'create', 'fabrikam', 'aws']);
      expect(created.code).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({ id: 'fabrikam', profile: 'aws' });
      const token = await run(['token', 'create', 'fabrikam', 'Entra connector']);
      expect(token.code).toBe(0);
      const secret = (JSON.parse(token.stdout) as { token: string }).token;
      expect((await app.s.request('GET', '/scim/v2/Users', { token: secret })).status).toBe(200);

      const typo = await run(['token', 'create', 'fabrikan', 'Entra connector']);
      expect({ code: typo.code, stdout: typo.stdout, stderr: typo.stderr.trim() }).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Directory not found',
      });
      for (const args of [
        ['token', 'list', 'fabrikan'],
        ['token', 'revoke', 'fabrikan', 'x'],
        ['directory', 'show', 'fabrikan'],
        ['directory', 'profile', 'fabrikan', 'aws'],
        ['directory', 'unique-group-names', 'fabrikan', 'off'],
        ['directory', 'delete', 'fabrikan'],
      ]) {
        const r = await run(args);
        expect({ args, code: r.code, stderr: r.stderr.trim() }).toEqual({
          args,
          code: 1,
          stderr: 'Directory not found',
        });
      }
      expect(await db().directory.count({ where: { id: 'fabrikan' } })).toBe(0);
      const again = await run(['directory', 'create', 'fabrikam']);
      expect(again.code).toBe(1);
      expect(again.stderr.trim()).toBe('The directory exists already');
    });

    it('sets the token cap as PUT maxTokens does (a directory at its cap gets a new token without an Entra token); bad values are exit 2', async () => {
      await run(['directory', 'create', 'cli-cap']);
      const set = await run(['directory', 'max-tokens', 'cli-cap', '1']);
      expect(set.code).toBe(0);
      expect(JSON.parse(set.stdout)).toMatchObject({ id: 'cli-cap', maxTokens: 1 });
      expect((await run(['token', 'create', 'cli-cap', 'first'])).code).toBe(0);
      expect((await run(['token', 'create', 'cli-cap', 'second'])).code).toBe(1);
      expect((await run(['directory', 'max-tokens', 'cli-cap', '2'])).code).toBe(0);
      expect((await run(['token', 'create', 'cli-cap', 'second'])).code).toBe(0);
      const reset = await run(['directory', 'max-tokens', 'cli-cap', 'default']);
      expect(JSON.parse(reset.stdout)).toMatchObject({ maxTokens: null });
      expect((await asAdmin('GET', '/admin/directories/cli-cap')).body.maxTokens).toBeNull();
      for (const v of ['0', '101', '1.5', '0x10', '-1', 'none']) {
        const r = await run(['directory', 'max-tokens', 'cli-cap', v]);
        expect({ v, code: r.code }).toEqual({ v, code: 2 });
      }
      const missing = await run(['directory', 'max-tokens', 'cli-nope', '3']);
      expect({ code: missing.code, stderr: missing.stderr.trim() }).toEqual({
        code: 1,
        stderr: 'Directory not found',
      });
      const [entry] = (
        await asAdmin('GET', '/admin/audit?directoryId=cli-cap&action=directory.update&limit=1')
      ).body.items;
      expect(entry).toMatchObject({
        actor: expect.stringMatching(/^cli:/),
        detail: { maxTokens: null },
      });
    });

    it('lists, shows and deletes (refusing a busy one without --force); bad usage is exit 2', async () => {
      await run(['directory', 'create', 'cli-dir']);
      await run(['token', 'create', 'cli-dir', 'Entra']);
      const list = await run(['directory', 'list']);
      expect(list.code).toBe(0);
      expect((JSON.parse(list.stdout) as { id: string }[]).map((d) => d.id)).toContain('cli-dir');
      const show = await run(['directory', 'show', 'cli-dir']);
      expect(JSON.parse(show.stdout)).toMatchObject({ id: 'cli-dir', profile: 'default' });
      const refused = await run(['directory', 'delete', 'cli-dir']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/1 live token\(s\)/);
      const forced = await run(['directory', 'delete', 'cli-dir', '--force']);
      expect(forced.code).toBe(0);
      expect(JSON.parse(forced.stdout)).toMatchObject({
        id: 'cli-dir',
        deleted: true,
        liveTokens: 1,
      });
      expect((await asAdmin('GET', '/admin/directories/cli-dir')).status).toBe(404);
      // The CLI's delete stages the same event (no request id: there is no request).
      expect(await eventsOf('cli-dir')).toEqual([
        [
          'scim.directory.deleted.v1',
          {
            eventId: expect.any(String),
            directoryId: 'cli-dir',
            occurredAt: expect.any(String),
            force: true,
            usersRemoved: 0,
            groupsRemoved: 0,
            liveTokensRemoved: 1,
          },
        ],
      ]);
      for (const args of [
        ['directory', 'delete', 'cli-dir', '--forse'],
        ['directory', 'create', 'x', 'gcp'],
        ['directory', 'create', 'bad id'],
        ['directory', 'list', 'extra'],
        ['directory', 'show'],
      ]) {
        const r = await run(args);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
      }
    });
  });
});
