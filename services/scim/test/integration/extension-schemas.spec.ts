import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ENTERPRISE,
  expectScimError,
  GROUP,
  patchOp,
  startReplicaPair,
  startScimWithAdmin,
  USER,
  type ScimAdminApp,
  type ScimTestApp,
  runAdminCli,
} from '../support/scim-app';

// Per-directory extension schemas (RFC 7643 §3.3): Entra ID's custom attribute mappings send
// `urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User` attributes. A directory declares
// the schema (admin API or CLI) and from then on it is part of that directory's User schema
// everywhere: writes, PATCH paths, filters, sorting, attributes/excludedAttributes, discovery.

const CUSTOM = 'urn:ietf:params:scim:schemas:extension:CustomExtension:2.0:User';
const GROUP_EXT = 'urn:example:params:scim:schemas:extension:contoso:1.0:Group';

const customSchema = {
  resourceType: 'User',
  name: 'CustomExtension',
  description: 'Custom attributes mapped in Entra ID',
  attributes: [
    { name: 'costCenter', type: 'string', description: 'Cost center' },
    { name: 'badgeActive', type: 'boolean' },
    { name: 'hiredOn', type: 'dateTime' },
    { name: 'employee-code', type: 'string', caseExact: true },
    {
      name: 'licenses',
      type: 'complex',
      multiValued: true,
      subAttributes: [
        { name: 'value', type: 'string' },
        { name: 'primary', type: 'boolean' },
      ],
    },
  ],
};

const schemaUrl = (dir: string, urn: string) =>
  `/admin/directories/${dir}/schemas/${encodeURIComponent(urn)}`;

describe('declared extension schemas', () => {
  let a: ScimAdminApp;
  let token: string;
  let other: string;
  beforeAll(async () => {
    a = await startScimWithAdmin();
    token = await a.s.directory('ext');
    other = await a.s.directory('ext-other');
    const put = await a.asAdmin('PUT', schemaUrl('ext', CUSTOM), customSchema);
    expect(put.status).toBe(201);
  });
  afterAll(async () => {
    await a.close();
  });

  const scim = (method: string, url: string, body?: unknown, t = token) =>
    a.s.request(method, url, { token: t, body });

  const run = (...args: string[]) => runAdminCli(a.s.databaseUrl, ...args);

  const entraUser = (userName: string, custom: Record<string, unknown>) => ({
    schemas: [USER, ENTERPRISE, CUSTOM],
    userName,
    active: true,
    displayName: userName,
    [ENTERPRISE]: { department: 'Sales' },
    [CUSTOM]: custom,
  });

  it('declares, redefines and lists a schema with every characteristic spelled out, audited', async () => {
    const again = await a.asAdmin('PUT', schemaUrl('ext', CUSTOM), customSchema);
    expect(again.status).toBe(200);
    const list = await a.asAdmin('GET', '/admin/directories/ext/schemas');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({
      urn: CUSTOM,
      resourceType: 'User',
      name: 'CustomExtension',
      attributes: expect.arrayContaining([
        {
          name: 'costCenter',
          type: 'string',
          multiValued: false,
          description: 'Cost center',
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none',
        },
      ]),
    });
    const audit = await a.asAdmin('GET', '/admin/audit?directoryId=ext&action=schema.put');
    expect(audit.body.items[0]).toMatchObject({
      action: 'schema.put',
      targetId: CUSTOM,
      detail: { resourceType: 'User', attributes: expect.arrayContaining(['costCenter']) },
    });
    expect((await a.asAdmin('GET', '/admin/directories/nosuch/schemas')).status).toBe(404);
    expect((await a.asAdmin('PUT', schemaUrl('nosuch', CUSTOM), customSchema)).status).toBe(404);
  });

  it.each([
    ['a URN that is not one', 'not-a-urn', customSchema],
    ['the core User URN', USER, customSchema],
    ['a URN under the core namespace', `${USER}:More`, customSchema],
    ['the enterprise URN', ENTERPRISE, customSchema],
    ['an unknown key', CUSTOM, { ...customSchema, extra: 1 }],
    ['no attributes', CUSTOM, { ...customSchema, attributes: [] }],
    ['another resource type', CUSTOM, { ...customSchema, resourceType: 'Device' }],
    [
      'an attribute name outside ATTRNAME',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: '1st', type: 'string' }] },
    ],
    ['a $ name', CUSTOM, { resourceType: 'User', attributes: [{ name: '$ref', type: 'string' }] }],
    [
      'a multi-valued integer (no sub-attribute to filter by)',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: 'n', type: 'integer', multiValued: true }] },
    ],
    [
      'an unknown type',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: 'n', type: 'text' }] },
    ],
    [
      'required (not enforced)',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: 'n', type: 'string', required: true }] },
    ],
    [
      'a uniqueness',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: 'n', type: 'string', uniqueness: 'server' }] },
    ],
    [
      'returned never',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: 'n', type: 'string', returned: 'never' }] },
    ],
    [
      'an invalid mutability',
      CUSTOM,
      {
        resourceType: 'User',
        attributes: [{ name: 'n', type: 'string', mutability: 'sometimes' }],
      },
    ],
    [
      'a non-boolean caseExact',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: 'n', type: 'string', caseExact: 'yes' }] },
    ],
    [
      'duplicate names in any case',
      CUSTOM,
      {
        resourceType: 'User',
        attributes: [
          { name: 'n', type: 'string' },
          { name: 'N', type: 'string' },
        ],
      },
    ],
    [
      'a complex attribute without sub-attributes',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: 'c', type: 'complex' }] },
    ],
    [
      'sub-attributes two levels deep',
      CUSTOM,
      {
        resourceType: 'User',
        attributes: [
          {
            name: 'c',
            type: 'complex',
            subAttributes: [
              { name: 'd', type: 'complex', subAttributes: [{ name: 'e', type: 'string' }] },
            ],
          },
        ],
      },
    ],
    [
      'a multi-valued simple attribute',
      CUSTOM,
      { resourceType: 'User', attributes: [{ name: 'tags', type: 'string', multiValued: true }] },
    ],
    [
      'more attributes than the cap',
      CUSTOM,
      {
        resourceType: 'User',
        attributes: Array.from({ length: 101 }, (_, i) => ({ name: `a${i}`, type: 'string' })),
      },
    ],
  ])('refuses %s with 400 invalid_request, storing nothing', async (_, urn, body) => {
    const r = await a.asAdmin('PUT', schemaUrl('ext-other', urn), body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    expect((await a.asAdmin('GET', '/admin/directories/ext-other/schemas')).body.items).toEqual([]);
  });

  it('lists the schema in /Schemas and /ResourceTypes of its directory only', async () => {
    const schemas = await scim('GET', '/scim/v2/Schemas');
    const doc = schemas.body.Resources.find((d: { id: string }) => d.id === CUSTOM);
    expect(doc).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: CUSTOM,
      name: 'CustomExtension',
      description: 'Custom attributes mapped in Entra ID',
      meta: { resourceType: 'Schema', location: expect.stringMatching(/\/Schemas\/urn:/) },
    });
    expect(doc.attributes.map((x: { name: string }) => x.name)).toEqual([
      'costCenter',
      'badgeActive',
      'hiredOn',
      'employee-code',
      'licenses',
    ]);
    expect((await scim('GET', `/scim/v2/Schemas/${CUSTOM}`)).body.id).toBe(CUSTOM);
    const user = await scim('GET', '/scim/v2/ResourceTypes/User');
    expect(user.body.schemaExtensions).toEqual([
      { schema: ENTERPRISE, required: false },
      { schema: CUSTOM, required: false },
    ]);
    expect((await scim('GET', '/scim/v2/ResourceTypes/Group')).body.schemaExtensions).toEqual([]);
    // Another directory has none of it.
    const otherSchemas = await scim('GET', '/scim/v2/Schemas', undefined, other);
    expect(otherSchemas.body.Resources.map((d: { id: string }) => d.id)).not.toContain(CUSTOM);
    expect((await scim('GET', `/scim/v2/Schemas/${CUSTOM}`, undefined, other)).status).toBe(404);
  });

  it('takes an Entra-style POST with the extension and returns it', async () => {
    const r = await scim(
      'POST',
      '/scim/v2/Users',
      entraUser('ada@contoso.example', {
        costCenter: 'CC-100',
        badgeActive: 'True',
        hiredOn: '2026-01-31T12:00:00Z',
        'employee-code': 'E-1',
        licenses: [{ value: 'E5', primary: true }],
      }),
    );
    expect(r.status).toBe(201);
    expect(r.body.schemas).toEqual([USER, ENTERPRISE, CUSTOM]);
    expect(r.body[CUSTOM]).toEqual({
      costCenter: 'CC-100',
      badgeActive: true,
      hiredOn: '2026-01-31T12:00:00Z',
      'employee-code': 'E-1',
      licenses: [{ value: 'E5', primary: true }],
    });
    const got = await scim('GET', `/scim/v2/Users/${r.body.id}`);
    expect(got.body[CUSTOM].costCenter).toBe('CC-100');
  });

  it('PATCHes extension attributes by path and without one, as Entra sends them', async () => {
    const u = await scim(
      'POST',
      '/scim/v2/Users',
      entraUser('bea@contoso.example', { costCenter: 'CC-1' }),
    );
    const byPath = await scim(
      'PATCH',
      `/scim/v2/Users/${u.body.id}`,
      patchOp(
        { op: 'Replace', path: `${CUSTOM}:costCenter`, value: 'CC-2' },
        { op: 'Add', path: `${CUSTOM}:badgeActive`, value: 'False' },
      ),
    );
    expect(byPath.status).toBe(200);
    expect(byPath.body[CUSTOM]).toEqual({ costCenter: 'CC-2', badgeActive: false });
    const pathless = await scim(
      'PATCH',
      `/scim/v2/Users/${u.body.id}`,
      patchOp({ op: 'replace', value: { [`${CUSTOM}:costCenter`]: 'CC-3' } }),
    );
    expect(pathless.status).toBe(200);
    expect(pathless.body[CUSTOM].costCenter).toBe('CC-3');
    const removed = await scim(
      'PATCH',
      `/scim/v2/Users/${u.body.id}`,
      patchOp({ op: 'remove', path: `${CUSTOM}:badgeActive` }),
    );
    expect(removed.body[CUSTOM]).toEqual({ costCenter: 'CC-3' });
    // A user without the extension gets it (and its URN in schemas) from a PATCH by path.
    const plain = await scim('POST', '/scim/v2/Users', {
      schemas: [USER],
      userName: 'cyd@contoso.example',
    });
    const added = await scim(
      'PATCH',
      `/scim/v2/Users/${plain.body.id}`,
      patchOp({ op: 'add', path: `${CUSTOM}:costCenter`, value: 'CC-9' }),
    );
    expect(added.status).toBe(200);
    expect(added.body.schemas).toContain(CUSTOM);
    expect(added.body[CUSTOM]).toEqual({ costCenter: 'CC-9' });
  });

  it('filters and sorts on extension attributes', async () => {
    await scim(
      'POST',
      '/scim/v2/Users',
      entraUser('flt-1@contoso.example', {
        costCenter: 'Fin-7',
        'employee-code': 'X-1',
        licenses: [{ value: 'E3' }],
      }),
    );
    await scim(
      'POST',
      '/scim/v2/Users',
      entraUser('flt-2@contoso.example', { costCenter: 'fin-8', badgeActive: true }),
    );
    const names = async (filter: string, extra = '') => {
      const r = await scim('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}${extra}`);
      expect(r.status).toBe(200);
      return r.body.Resources.map((x: { userName: string }) => x.userName);
    };
    expect(await names(`${CUSTOM}:costCenter eq "FIN-7"`)).toEqual(['flt-1@contoso.example']);
    expect(
      await names(
        `${CUSTOM}:costCenter sw "fin-"`,
        `&sortBy=${CUSTOM}:costCenter&sortOrder=descending`,
      ),
    ).toEqual(['flt-2@contoso.example', 'flt-1@contoso.example']);
    // caseExact as declared.
    expect(await names(`${CUSTOM}:employee-code eq "x-1"`)).toEqual([]);
    expect(await names(`${CUSTOM}:employee-code eq "X-1"`)).toEqual(['flt-1@contoso.example']);
    expect(await names(`${CUSTOM}:badgeActive eq true and userName sw "flt"`)).toEqual([
      'flt-2@contoso.example',
    ]);
    expect(await names(`${CUSTOM}:licenses[value eq "E3"]`)).toEqual(['flt-1@contoso.example']);
    expect(await names(`schemas eq "${CUSTOM}" and userName sw "flt"`)).toHaveLength(2);
    // Across resource types too.
    const root = await scim('POST', '/scim/v2/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
      filter: `${CUSTOM}:costCenter eq "fin-8"`,
    });
    expect(root.body.Resources.map((x: { userName: string }) => x.userName)).toEqual([
      'flt-2@contoso.example',
    ]);
    // Wrong value type for the attribute, an unknown one: 400 invalidFilter.
    expectScimError(
      await scim(
        'GET',
        `/scim/v2/Users?filter=${encodeURIComponent(`${CUSTOM}:badgeActive co "t"`)}`,
      ),
      400,
      'invalidFilter',
    );
    expectScimError(
      await scim('GET', `/scim/v2/Users?filter=${encodeURIComponent(`${CUSTOM}:nosuch eq "x"`)}`),
      400,
      'invalidFilter',
    );
  });

  it('applies attributes and excludedAttributes to extension attributes', async () => {
    const u = await scim(
      'POST',
      '/scim/v2/Users',
      entraUser('proj@contoso.example', { costCenter: 'CC-5', badgeActive: true }),
    );
    const only = await scim('GET', `/scim/v2/Users/${u.body.id}?attributes=${CUSTOM}:costCenter`);
    expect(only.body).toEqual({
      schemas: [USER, ENTERPRISE, CUSTOM],
      id: u.body.id,
      [CUSTOM]: { costCenter: 'CC-5' },
    });
    const whole = await scim('GET', `/scim/v2/Users/${u.body.id}?attributes=${CUSTOM}`);
    expect(whole.body[CUSTOM]).toEqual({ costCenter: 'CC-5', badgeActive: true });
    const without = await scim(
      'GET',
      `/scim/v2/Users/${u.body.id}?excludedAttributes=${CUSTOM}:costCenter`,
    );
    expect(without.body[CUSTOM]).toEqual({ badgeActive: true });
    expect(without.body.userName).toBe('proj@contoso.example');
  });

  it('refuses unknown extension attributes and wrong types with the right scimType, storing nothing', async () => {
    expectScimError(
      await scim('POST', '/scim/v2/Users', entraUser('bad-1@contoso.example', { nosuch: 'x' })),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await scim('POST', '/scim/v2/Users', entraUser('bad-2@contoso.example', { costCenter: 5 })),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim(
        'POST',
        '/scim/v2/Users',
        entraUser('bad-3@contoso.example', { hiredOn: 'yesterday' }),
      ),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim(
        'POST',
        '/scim/v2/Users',
        entraUser('bad-4@contoso.example', { licenses: { value: 'E5' } }),
      ),
      400,
      'invalidValue',
    );
    const u = await scim(
      'POST',
      '/scim/v2/Users',
      entraUser('bad-5@contoso.example', { costCenter: 'CC' }),
    );
    expectScimError(
      await scim(
        'PATCH',
        `/scim/v2/Users/${u.body.id}`,
        patchOp({ op: 'add', path: `${CUSTOM}:nosuch`, value: 'x' }),
      ),
      400,
      'invalidPath',
    );
    expectScimError(
      await scim(
        'PATCH',
        `/scim/v2/Users/${u.body.id}`,
        patchOp({ op: 'replace', path: `${CUSTOM}:badgeActive`, value: 'maybe' }),
      ),
      400,
      'invalidValue',
    );
    expect((await scim('GET', `/scim/v2/Users/${u.body.id}`)).body[CUSTOM]).toEqual({
      costCenter: 'CC',
    });
    const list = await scim(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent('userName sw "bad-"')}`,
    );
    expect(list.body.totalResults).toBe(1);
  });

  it('still refuses a URN the directory does not declare (400 invalidValue), in another directory too', async () => {
    const undeclared = 'urn:ietf:params:scim:schemas:extension:Other:2.0:User';
    expectScimError(
      await scim('POST', '/scim/v2/Users', {
        schemas: [USER, undeclared],
        userName: 'und@contoso.example',
        [undeclared]: { costCenter: 'x' },
      }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim(
        'POST',
        '/scim/v2/Users',
        entraUser('und@contoso.example', { costCenter: 'x' }),
        other,
      ),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim(
        'GET',
        `/scim/v2/Users?filter=${encodeURIComponent(`${CUSTOM}:costCenter eq "x"`)}`,
        undefined,
        other,
      ),
      400,
      'invalidFilter',
    );
  });

  it('extends Groups with a Group extension', async () => {
    const put = await a.asAdmin('PUT', schemaUrl('ext', GROUP_EXT), {
      resourceType: 'Group',
      attributes: [{ name: 'region', type: 'string' }],
    });
    expect(put.status).toBe(201);
    expect((await scim('GET', '/scim/v2/ResourceTypes/Group')).body.schemaExtensions).toEqual([
      { schema: GROUP_EXT, required: false },
    ]);
    const g = await scim('POST', '/scim/v2/Groups', {
      schemas: [GROUP, GROUP_EXT],
      displayName: 'EMEA',
      [GROUP_EXT]: { region: 'emea' },
    });
    expect(g.status).toBe(201);
    expect(g.body[GROUP_EXT]).toEqual({ region: 'emea' });
    const found = await scim(
      'GET',
      `/scim/v2/Groups?filter=${encodeURIComponent(`${GROUP_EXT}:region eq "EMEA"`)}`,
    );
    expect(found.body.Resources.map((x: { id: string }) => x.id)).toEqual([g.body.id]);
    // Not a User schema.
    expectScimError(
      await scim('POST', '/scim/v2/Users', {
        schemas: [USER, GROUP_EXT],
        userName: 'grp@contoso.example',
      }),
      400,
      'invalidValue',
    );
    expect((await a.asAdmin('DELETE', schemaUrl('ext', GROUP_EXT))).status).toBe(200);
  });

  it('refuses extensions in the aws profile (409), and the aws profile while extensions are declared', async () => {
    await a.s.directory('ext-aws', 'aws');
    const r = await a.asAdmin('PUT', schemaUrl('ext-aws', CUSTOM), customSchema);
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ error: 'conflict', error_description: expect.stringMatching(/aws/) });
    const sw = await a.asAdmin('PUT', '/admin/directories/ext', { profile: 'aws' });
    expect(sw.status).toBe(409);
    expect(sw.body.error).toBe('conflict');
    expect((await a.asAdmin('GET', '/admin/directories/ext')).body.profile).toBe('default');
    const viaCli = await run('directory', 'profile', 'ext', 'aws');
    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toMatch(/extension schemas/);
  });

  it('declares, lists and deletes by CLI with the API checks and exit codes', async () => {
    await a.asAdmin('POST', '/admin/directories', { id: 'ext-cli' });
    const dir = mkdtempSync(join(tmpdir(), 'scim-schema-'));
    const file = join(dir, 'custom.json');
    writeFileSync(file, JSON.stringify({ urn: CUSTOM, ...customSchema }));
    const put = await run('directory', 'schema', 'put', 'ext-cli', file);
    expect(put).toMatchObject({ code: 0, stderr: '' });
    const api = await a.asAdmin('GET', '/admin/directories/ext-cli/schemas');
    expect(JSON.parse(put.stdout)).toEqual(api.body.items[0]);
    expect(JSON.parse((await run('directory', 'schema', 'list', 'ext-cli')).stdout)).toEqual(
      api.body.items,
    );
    // Invalid input: the API's words, exit 2.
    const badBody = { resourceType: 'User', attributes: [{ name: 'n', type: 'number' }] };
    writeFileSync(file, JSON.stringify({ urn: CUSTOM, ...badBody }));
    const bad = await run('directory', 'schema', 'put', 'ext-cli', file);
    const apiBad = await a.asAdmin('PUT', schemaUrl('ext-cli', CUSTOM), badBody);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr.trim()).toBe(apiBad.body.error_description);
    writeFileSync(file, '{not json');
    expect((await run('directory', 'schema', 'put', 'ext-cli', file)).code).toBe(2);
    expect(
      (await run('directory', 'schema', 'put', 'ext-cli', join(dir, 'missing.json'))).code,
    ).toBe(2);
    expect((await run('directory', 'schema', 'delete', 'ext-cli', 'not-a-urn')).code).toBe(2);
    expect((await run('directory', 'schema', 'list')).code).toBe(2);
    // Failed: unknown directory, undeclared schema: exit 1.
    writeFileSync(file, JSON.stringify({ urn: CUSTOM, ...customSchema }));
    expect((await run('directory', 'schema', 'put', 'ext-nosuch', file)).code).toBe(1);
    const del = await run('directory', 'schema', 'delete', 'ext-cli', CUSTOM);
    expect(del).toMatchObject({ code: 0 });
    expect(JSON.parse(del.stdout)).toEqual({ urn: CUSTOM, deleted: true });
    expect((await run('directory', 'schema', 'delete', 'ext-cli', CUSTOM)).code).toBe(1);
    const audit = await a.asAdmin('GET', '/admin/audit?directoryId=ext-cli');
    expect(audit.body.items.map((e: { action: string; actor: string }) => e.action)).toEqual([
      'schema.delete',
      'schema.put',
      'directory.create',
    ]);
    expect(audit.body.items[0].actor).toMatch(/^cli/);
  });

  it('stops returning and accepting a deleted schema; the stored data stays for a new declaration', async () => {
    await a.asAdmin('POST', '/admin/directories', { id: 'ext-del' });
    await a.asAdmin('PUT', schemaUrl('ext-del', CUSTOM), customSchema);
    const t = await a.s.directory('ext-del');
    const u = await scim(
      'POST',
      '/scim/v2/Users',
      entraUser('del@contoso.example', { costCenter: 'CC-7' }),
      t,
    );
    expect(u.status).toBe(201);
    const del = await a.asAdmin('DELETE', schemaUrl('ext-del', CUSTOM));
    expect(del.status).toBe(200);
    expect((await a.asAdmin('DELETE', schemaUrl('ext-del', CUSTOM))).status).toBe(404);
    const got = await scim('GET', `/scim/v2/Users/${u.body.id}`, undefined, t);
    expect(got.body.schemas).toEqual([USER, ENTERPRISE]);
    expect(got.body[CUSTOM]).toBeUndefined();
    expect(
      (await scim('GET', '/scim/v2/Schemas', undefined, t)).body.Resources.map(
        (d: { id: string }) => d.id,
      ),
    ).not.toContain(CUSTOM);
    expect(
      (await scim('GET', '/scim/v2/ResourceTypes/User', undefined, t)).body.schemaExtensions,
    ).toEqual([{ schema: ENTERPRISE, required: false }]);
    expectScimError(
      await scim(
        'PATCH',
        `/scim/v2/Users/${u.body.id}`,
        patchOp({ op: 'add', path: `${CUSTOM}:costCenter`, value: 'x' }),
        t,
      ),
      400,
      'invalidPath',
    );
    expectScimError(
      await scim(
        'GET',
        `/scim/v2/Users?filter=${encodeURIComponent(`${CUSTOM}:costCenter eq "CC-7"`)}`,
        undefined,
        t,
      ),
      400,
      'invalidFilter',
    );
    // Filters agree with what is returned: the stored URN no longer matches `schemas`.
    const bySchemas = async (urn: string) =>
      (
        await scim(
          'GET',
          `/scim/v2/Users?filter=${encodeURIComponent(`schemas eq "${urn}"`)}`,
          undefined,
          t,
        )
      ).body.Resources.map((x: { id: string }) => x.id);
    expect(await bySchemas(CUSTOM)).toEqual([]);
    expect(await bySchemas(CUSTOM.toUpperCase())).toEqual([]);
    expect(await bySchemas(ENTERPRISE)).toEqual([u.body.id]);
    const across = await scim(
      'POST',
      '/scim/v2/.search',
      {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: `schemas co "customextension" or schemas eq "${CUSTOM}"`,
      },
      t,
    );
    expect(across.status).toBe(200);
    expect(across.body.totalResults).toBe(0);
    // Another PATCH keeps what is stored under it.
    const patched = await scim(
      'PATCH',
      `/scim/v2/Users/${u.body.id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Del' }),
      t,
    );
    expect(patched.status).toBe(200);
    expect(patched.body[CUSTOM]).toBeUndefined();
    await a.asAdmin('PUT', schemaUrl('ext-del', CUSTOM), customSchema);
    const back = await scim('GET', `/scim/v2/Users/${u.body.id}`, undefined, t);
    expect(back.body[CUSTOM]).toEqual({ costCenter: 'CC-7' });
    expect(back.body.displayName).toBe('Del');
    expect(await bySchemas(CUSTOM)).toEqual([u.body.id]);
  });

  it('takes integer and decimal attributes: JSON numbers, compared and sorted as numbers', async () => {
    const NUM = 'urn:example:scim:schemas:extension:numbers:1.0:User';
    await a.asAdmin('POST', '/admin/directories', { id: 'ext-num' });
    const put = await a.asAdmin('PUT', schemaUrl('ext-num', NUM), {
      resourceType: 'User',
      attributes: [
        { name: 'level', type: 'integer' },
        { name: 'ratio', type: 'decimal' },
        {
          name: 'quotas',
          type: 'complex',
          multiValued: true,
          subAttributes: [
            { name: 'value', type: 'string' },
            { name: 'seats', type: 'integer' },
          ],
        },
      ],
    });
    expect(put.status).toBe(201);
    const t = await a.s.directory('ext-num');
    const schema = (await scim('GET', `/scim/v2/Schemas/${NUM}`, undefined, t)).body;
    expect(schema.attributes.map((x: { type: string }) => x.type)).toEqual([
      'integer',
      'decimal',
      'complex',
    ]);
    expect(schema.attributes[2].subAttributes[1]).toMatchObject({ name: 'seats', type: 'integer' });
    const user = (userName: string, ext: Record<string, unknown>) =>
      scim('POST', '/scim/v2/Users', { schemas: [USER, NUM], userName, [NUM]: ext }, t);
    const ids = new Map<string, string>();
    for (const [name, ext] of [
      ['n9', { level: 9, ratio: 0.5, quotas: [{ value: 'disk', seats: 3 }] }],
      ['n10', { level: 10, ratio: 2, quotas: [{ value: 'disk', seats: 12 }] }],
      ['n-1', { level: -1, ratio: 1.25 }],
      ['none', {}],
    ] as const) {
      const r = await user(name, ext);
      expect(r.status).toBe(201);
      ids.set(name, r.body.id);
    }
    expect((await scim('GET', `/scim/v2/Users/${ids.get('n10')}`, undefined, t)).body[NUM]).toEqual(
      { level: 10, ratio: 2, quotas: [{ value: 'disk', seats: 12 }] },
    );
    // Writes: an integer is an integral JSON number, a decimal any JSON number; strings are not numbers.
    const before = (await scim('GET', '/scim/v2/Users', undefined, t)).body.totalResults;
    for (const ext of [
      { level: 1.5 },
      { level: '7' },
      { ratio: '0.5' },
      { ratio: true },
      { quotas: [{ value: 'x', seats: 2.5 }] },
    ]) {
      const r = await user('bad-number', ext);
      expectScimError(r, 400, 'invalidValue');
    }
    // 1e999 parses as Infinity, which JSON cannot hold.
    const inf = await a.s.request('POST', '/scim/v2/Users', {
      token: t,
      raw: `{"schemas":["${USER}","${NUM}"],"userName":"inf","${NUM}":{"ratio":1e999}}`,
      headers: { 'content-type': 'application/scim+json' },
    });
    expectScimError(inf, 400, 'invalidValue');
    expect((await scim('GET', '/scim/v2/Users', undefined, t)).body.totalResults).toBe(before);

    const names = async (filter: string, extra = '') => {
      const r = await scim(
        'GET',
        `/scim/v2/Users?filter=${encodeURIComponent(filter)}${extra}`,
        undefined,
        t,
      );
      expect(r.status).toBe(200);
      return r.body.Resources.map((x: { userName: string }) => x.userName);
    };
    // RFC 7644 §3.4.2.2 on numbers: numeric order (10 > 9, which text would order the other way).
    expect(await names(`${NUM}:level gt 9`)).toEqual(['n10']);
    expect(await names(`${NUM}:level ge 9`, '&sortBy=userName')).toEqual(['n10', 'n9']);
    expect(await names(`${NUM}:level lt 0`)).toEqual(['n-1']);
    expect(await names(`${NUM}:level le 9`, '&sortBy=userName')).toEqual(['n-1', 'n9']);
    expect(await names(`${NUM}:level eq 10.0`)).toEqual(['n10']);
    expect(await names(`${NUM}:ratio eq 2`)).toEqual(['n10']);
    expect(await names(`${NUM}:ratio ge 1.25 and ${NUM}:ratio lt 2`)).toEqual(['n-1']);
    expect(await names(`${NUM}:ratio gt 1e-1`, '&sortBy=userName')).toEqual(['n-1', 'n10', 'n9']);
    expect(await names(`${NUM}:level ne 9`, '&sortBy=userName')).toEqual(['n-1', 'n10', 'none']);
    expect(await names(`${NUM}:level pr`, '&sortBy=userName')).toEqual(['n-1', 'n10', 'n9']);
    expect(await names(`${NUM}:quotas[seats gt 5]`)).toEqual(['n10']);
    expect(await names(`${NUM}:quotas.seats lt 5`)).toEqual(['n9']);
    // Sorted as numbers, absent last ascending and first descending.
    expect(await names('userName pr', `&sortBy=${NUM}:level`)).toEqual([
      'n-1',
      'n9',
      'n10',
      'none',
    ]);
    expect(await names('userName pr', `&sortBy=${NUM}:ratio&sortOrder=descending`)).toEqual([
      'none',
      'n10',
      'n-1',
      'n9',
    ]);
    // Neither n-1 nor none has a seat: they come last, in id order.
    expect((await names('userName pr', `&sortBy=${NUM}:quotas.seats`)).slice(0, 2)).toEqual([
      'n9',
      'n10',
    ]);
    // String operators and quoted or boolean values: 400 invalidFilter, in PATCH value filters too.
    for (const f of [
      `${NUM}:level co 1`,
      `${NUM}:level sw 1`,
      `${NUM}:level eq "9"`,
      `${NUM}:ratio gt true`,
      `${NUM}:level gt 1e999`,
      `${NUM}:quotas[seats eq "3"]`,
    ])
      expectScimError(
        await scim('GET', `/scim/v2/Users?filter=${encodeURIComponent(f)}`, undefined, t),
        400,
        'invalidFilter',
      );
    const n9 = ids.get('n9')!;
    expectScimError(
      await scim(
        'PATCH',
        `/scim/v2/Users/${n9}`,
        patchOp({ op: 'replace', path: `${NUM}:quotas[seats co 3].seats`, value: 4 }),
        t,
      ),
      400,
    );
    // PATCH by path and through a numeric value filter.
    const patched = await scim(
      'PATCH',
      `/scim/v2/Users/${n9}`,
      patchOp(
        { op: 'replace', path: `${NUM}:quotas[seats eq 3].seats`, value: 30 },
        { op: 'replace', path: `${NUM}:level`, value: 11 },
      ),
      t,
    );
    expect(patched.status).toBe(200);
    expect(patched.body[NUM]).toEqual({
      level: 11,
      ratio: 0.5,
      quotas: [{ value: 'disk', seats: 30 }],
    });
    expectScimError(
      await scim(
        'PATCH',
        `/scim/v2/Users/${n9}`,
        patchOp({ op: 'replace', path: `${NUM}:level`, value: 11.5 }),
        t,
      ),
      400,
      'invalidValue',
    );
    expect(await names(`${NUM}:level gt 10`)).toEqual(['n9']);
  });

  it('caps the schemas of a directory', async () => {
    await a.asAdmin('POST', '/admin/directories', { id: 'ext-cap' });
    for (let i = 0; i < 20; i++)
      expect(
        (await a.asAdmin('PUT', schemaUrl('ext-cap', `urn:example:ext:${i}`), customSchema)).status,
      ).toBe(201);
    const over = await a.asAdmin('PUT', schemaUrl('ext-cap', 'urn:example:ext:20'), customSchema);
    expect(over.status).toBe(409);
    // Redefining one that exists is not a new one.
    expect(
      (await a.asAdmin('PUT', schemaUrl('ext-cap', 'urn:example:ext:3'), customSchema)).status,
    ).toBe(200);
  });
});

describe('declared extension schemas across replicas', () => {
  let a: ScimAdminApp;
  let b: ScimTestApp;
  beforeAll(async () => {
    ({ a, b } = await startReplicaPair());
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  /** The User extensions replica b advertises, polled for up to 1 s (its settings cache lives 5 s). */
  const seenByB = async (token: string, want: string[]): Promise<string[]> => {
    let got: string[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await b.request('GET', '/scim/v2/ResourceTypes/User', { token });
      got = r.body.schemaExtensions.map((e: { schema: string }) => e.schema);
      if (JSON.stringify(got) === JSON.stringify(want)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return got;
  };

  it('a declaration or deletion on one replica holds on the others at once', async () => {
    const token = await a.s.directory('ext-rep');
    expect(await seenByB(token, [ENTERPRISE])).toEqual([ENTERPRISE]); // cached by b now
    expect((await a.asAdmin('PUT', schemaUrl('ext-rep', CUSTOM), customSchema)).status).toBe(201);
    expect(await seenByB(token, [ENTERPRISE, CUSTOM])).toEqual([ENTERPRISE, CUSTOM]);
    const post = await b.request('POST', '/scim/v2/Users', {
      token,
      body: {
        schemas: [USER, CUSTOM],
        userName: 'rep@contoso.example',
        [CUSTOM]: { costCenter: 'R' },
      },
    });
    expect(post.status).toBe(201);
    expect((await a.asAdmin('DELETE', schemaUrl('ext-rep', CUSTOM))).status).toBe(200);
    expect(await seenByB(token, [ENTERPRISE])).toEqual([ENTERPRISE]);
    const refused = await b.request('POST', '/scim/v2/Users', {
      token,
      body: {
        schemas: [USER, CUSTOM],
        userName: 'rep2@contoso.example',
        [CUSTOM]: { costCenter: 'R' },
      },
    });
    expectScimError(refused, 400, 'invalidValue');
  });
});
