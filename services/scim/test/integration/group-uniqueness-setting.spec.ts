import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  GROUP,
  patchOp,
  type ScimTestApp,
  startScimWithAdmin,
  type ScimAdminApp,
} from '../support/scim-app';

// A directory setting (issue 14): group displayName uniqueness is on by default (409 uniqueness,
// case-insensitive) and can be turned off per directory through the admin API.
describe('group displayName uniqueness: a per-directory setting', () => {
  let s: ScimTestApp;
  let app: ScimAdminApp;
  beforeAll(async () => {
    app = await startScimWithAdmin();
    ({ s } = app);
  });
  afterAll(() => app.close());

  const asAdmin: ScimAdminApp['asAdmin'] = (...a) => app.asAdmin(...a);
  const createGroup = (token: string, displayName: string) =>
    s.request('POST', '/scim/v2/Groups', { token, body: { schemas: [GROUP], displayName } });

  it('is on by default and shown by the admin API', async () => {
    const token = await s.directory('uniq-default');
    const dir = await asAdmin('GET', '/admin/directories/uniq-default');
    expect(dir.status).toBe(200);
    expect(dir.body).toMatchObject({ id: 'uniq-default', uniqueGroupDisplayName: true });
    expect((await createGroup(token, 'Sales')).status).toBe(201);
    const dup = await createGroup(token, 'SALES');
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ scimType: 'uniqueness' });
  });

  it('turned off, allows same-named groups on create, PATCH and PUT, in that directory only', async () => {
    const token = await s.directory('uniq-off');
    const other = await s.directory('uniq-on');
    const put = await asAdmin('PUT', '/admin/directories/uniq-off', {
      uniqueGroupDisplayName: false,
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      id: 'uniq-off',
      profile: 'default',
      uniqueGroupDisplayName: false,
    });

    const a = await createGroup(token, 'Engineering');
    const b = await createGroup(token, 'engineering');
    expect([a.status, b.status]).toEqual([201, 201]);
    const c = await createGroup(token, 'Marketing');
    expect(c.status).toBe(201);
    const renamed = await s.request('PATCH', `/scim/v2/Groups/${c.body.id}`, {
      token,
      body: patchOp({ op: 'replace', path: 'displayName', value: 'ENGINEERING' }),
    });
    expect(renamed.status).toBe(204);
    const replaced = await s.request('PUT', `/scim/v2/Groups/${b.body.id}`, {
      token,
      body: { schemas: [GROUP], displayName: 'Engineering' },
    });
    expect(replaced.status).toBe(200);
    const listed = await s.request(
      'GET',
      `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "engineering"')}`,
      { token },
    );
    expect(listed.body.totalResults).toBe(3);

    // Another directory keeps the default.
    expect((await createGroup(other, 'Engineering')).status).toBe(201);
    expect((await createGroup(other, 'Engineering')).status).toBe(409);
  });

  it('turned back on, refuses new clashes while existing duplicates stay readable and patchable', async () => {
    const token = await s.directory('uniq-again');
    await asAdmin('PUT', '/admin/directories/uniq-again', { uniqueGroupDisplayName: false });
    const a = await createGroup(token, 'Ops');
    const b = await createGroup(token, 'OPS');
    expect([a.status, b.status]).toEqual([201, 201]);
    const on = await asAdmin('PUT', '/admin/directories/uniq-again', {
      uniqueGroupDisplayName: true,
    });
    expect(on.body).toMatchObject({ uniqueGroupDisplayName: true });
    expect((await createGroup(token, 'ops')).status).toBe(409);
    // A PATCH that does not rename a duplicate is not refused; one renaming into a clash is.
    const patched = await s.request('PATCH', `/scim/v2/Groups/${a.body.id}`, {
      token,
      body: patchOp({ op: 'replace', path: 'externalId', value: 'ext-ops' }),
    });
    expect(patched.status).toBe(204);
    expect((await s.request('GET', `/scim/v2/Groups/${b.body.id}`, { token })).status).toBe(200);
    const c = await createGroup(token, 'Infra');
    const clash = await s.request('PATCH', `/scim/v2/Groups/${c.body.id}`, {
      token,
      body: patchOp({ op: 'replace', path: 'displayName', value: 'Ops' }),
    });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ scimType: 'uniqueness' });
  });

  it('is validated by the admin API', async () => {
    const bad = await asAdmin('PUT', '/admin/directories/uniq-bad', {
      uniqueGroupDisplayName: 'no',
    });
    expect(bad.status).toBe(400);
  });

  it('can be set with the admin CLI', async () => {
    const cli = join(__dirname, '..', '..', 'dist', 'cli', 'admin-cli.js');
    const run = promisify(execFile);
    const env = { ...process.env, DATABASE_URL: s.databaseUrl };
    await run(process.execPath, [cli, 'directory', 'create', 'uniq-cli'], { env });
    const off = await run(
      process.execPath,
      [cli, 'directory', 'unique-group-names', 'uniq-cli', 'off'],
      { env },
    );
    expect(JSON.parse(off.stdout)).toEqual({ id: 'uniq-cli', uniqueGroupDisplayName: false });
    const dir = await asAdmin('GET', '/admin/directories/uniq-cli');
    expect(dir.body).toMatchObject({ uniqueGroupDisplayName: false });
    const on = await run(
      process.execPath,
      [cli, 'directory', 'unique-group-names', 'uniq-cli', 'on'],
      { env },
    );
    expect(JSON.parse(on.stdout)).toEqual({ id: 'uniq-cli', uniqueGroupDisplayName: true });
  });
});
