import { startScimWithAdmin, type ScimAdminApp, runAdminCli } from '../support/scim-app';

// The CLI's `audit` and `directory create` take what GET /admin/audit and POST /admin/directories
// take, checked the same way: same results, invalid input exit 2, a failed change exit 1.
describe('admin CLI parity with the admin API', () => {
  let a: ScimAdminApp;
  beforeAll(async () => {
    a = await startScimWithAdmin();
  });
  afterAll(async () => {
    await a.close();
  });

  const run = (...args: string[]) => runAdminCli(a.s.databaseUrl, ...args);

  it('directory create takes profile, maxTokens and uniqueGroupDisplayName', async () => {
    const r = await run(
      'directory',
      'create',
      'cli-full',
      '--profile',
      'aws',
      '--maxTokens',
      '7',
      '--uniqueGroupDisplayName',
      'false',
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const api = await a.asAdmin('GET', '/admin/directories/cli-full');
    expect(api.body).toMatchObject({ profile: 'aws', maxTokens: 7, uniqueGroupDisplayName: false });
    expect(JSON.parse(r.stdout)).toEqual(api.body);
    // The positional profile of before still works; without settings, the API's defaults.
    expect((await run('directory', 'create', 'cli-pos', 'aws')).code).toBe(0);
    expect((await run('directory', 'create', 'cli-plain')).code).toBe(0);
    const plain = await a.asAdmin('POST', '/admin/directories', { id: 'api-plain' });
    const cliPlain = (await a.asAdmin('GET', '/admin/directories/cli-plain')).body;
    expect({ ...cliPlain, id: 'x', createdAt: 'x' }).toEqual({
      ...plain.body,
      id: 'x',
      createdAt: 'x',
    });
    expect((await a.asAdmin('GET', '/admin/directories/cli-pos')).body.profile).toBe('aws');
    // Exists already: the API's 409, the CLI's 1.
    const again = await run('directory', 'create', 'cli-full', '--maxTokens', '2');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists/);
  });

  it.each([
    [['--maxTokens', '0'], { maxTokens: 0 }],
    [['--maxTokens', '101'], { maxTokens: 101 }],
    [['--maxTokens', 'many'], { maxTokens: 'many' }],
    [['--profile', 'azure'], { profile: 'azure' }],
    [['--uniqueGroupDisplayName', 'yes'], { uniqueGroupDisplayName: 'yes' }],
  ])('directory create %j is refused like the API refuses %j', async (args, body) => {
    const api = await a.asAdmin('POST', '/admin/directories', { id: 'cli-bad', ...body });
    expect(api.status).toBe(400);
    const r = await run('directory', 'create', 'cli-bad', ...args);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr.trim()).toBe(api.body.error_description);
    expect((await a.asAdmin('GET', '/admin/directories/cli-bad')).status).toBe(404);
  });

  it.each([
    [['directory', 'create', 'cli-u', '--maxToken', '3']],
    [['directory', 'create', 'cli-u', '--maxTokens']],
    [['directory', 'create', 'cli-u', 'aws', 'extra']],
    [['directory', 'create', 'cli-u', 'aws', '--profile', 'default']],
    [['audit', 'extra']],
    [['audit', '--actions', 'token.create']],
  ])('%j is a usage error (2)', async (args) => {
    const r = await run(...args);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).not.toBe('');
    expect((await a.asAdmin('GET', '/admin/directories/cli-u')).status).toBe(404);
  });

  it('audit reads the trail with the filters and paging of GET /admin/audit', async () => {
    await a.asAdmin('POST', '/admin/directories', { id: 'aud' });
    for (let i = 0; i < 3; i++)
      await a.asAdmin('POST', '/admin/directories/aud/tokens', { name: `t${i}` });
    const api = await a.asAdmin('GET', '/admin/audit?directoryId=aud&action=token.create&limit=2');
    expect(api.body.items).toHaveLength(2);
    const first = await run(
      'audit',
      '--directoryId',
      'aud',
      '--action',
      'token.create',
      '--limit',
      '2',
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual(api.body);
    const rest = await run(
      'audit',
      '--directoryId',
      'aud',
      '--action',
      'token.create',
      '--before',
      api.body.next,
    );
    expect(JSON.parse(rest.stdout)).toEqual(
      (
        await a.asAdmin(
          'GET',
          `/admin/audit?directoryId=aud&action=token.create&before=${api.body.next}`,
        )
      ).body,
    );
    expect(JSON.parse(rest.stdout).items).toHaveLength(1);
    // No filters: every entry, newest first, the API's default page.
    expect(JSON.parse((await run('audit')).stdout)).toEqual(
      (await a.asAdmin('GET', '/admin/audit')).body,
    );
  });

  it.each([
    ['limit=0', ['--limit', '0']],
    ['limit=1001', ['--limit', '1001']],
    ['action=token.delete', ['--action', 'token.delete']],
    ['before=x', ['--before', 'x']],
    ['directoryId=a%20b', ['--directoryId', 'a b']],
  ])('audit refuses what the API refuses (%s)', async (query, args) => {
    const api = await a.asAdmin('GET', `/admin/audit?${query}`);
    expect(api.status).toBe(400);
    const r = await run('audit', ...args);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr.trim()).toBe(api.body.error_description);
  });
});
