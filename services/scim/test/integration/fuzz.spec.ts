import fc from 'fast-check';
import { extensionSchemaBody } from '../../src/scim/extension-schemas';
import { DirectoriesService } from '../../src/tokens/directories.service';
import {
  attrList,
  declaredExtensions,
  EXT_GROUP,
  EXT_USER,
  filterText,
  groupBody,
  pagingParam,
  patchBody,
  userBody,
} from '../support/fuzz-arbitraries';
import {
  ENTERPRISE,
  GROUP,
  startScim,
  USER,
  type Reply,
  type ScimTestApp,
} from '../support/scim-app';

// Property-based fuzzing of the running service (Fastify + Nest + PostgreSQL, through inject) in
// the default (Entra) and the aws profile, and in a default directory with declared extension
// schemas of every attribute type (filters, PATCH paths and writes naming them): no 5xx ever, every 4xx in the SCIM error schema, a
// refused write changes nothing, and resources no request targeted stay exactly as they were.
// Seeded: a failure prints the seed and the shrunk counterexample; SCIM_FUZZ_SEED replays another.

const SEED = Number(process.env.SCIM_FUZZ_SEED ?? 11032026);
const RUNS = Number(process.env.SCIM_FUZZ_RUNS ?? 60);
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const params = (numRuns: number) => ({ seed: SEED, numRuns, endOnFailure: true });

type ProfileName = 'default' | 'aws' | 'extended';
interface Tenant {
  token: string;
  base: string;
  userId: string;
  groupId: string;
}

/** The invariants of every answer. Thrown as one readable failure, so fast-check reports the input. */
function check(r: Reply, what: string): void {
  if (r.status >= 500) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
  if (r.status < 400 || r.text === '') return; // HEAD-like bodyless errors do not occur here
  const b = r.body as { schemas?: unknown; status?: unknown; detail?: unknown } | undefined;
  const ok =
    !!b &&
    Array.isArray(b.schemas) &&
    b.schemas.includes(ERROR) &&
    b.status === String(r.status) &&
    typeof b.detail === 'string';
  if (!ok || !/^application\/scim\+json/.test(String(r.headers['content-type'])))
    throw new Error(`${what}: ${r.status} not in the SCIM error schema: ${r.text.slice(0, 300)}`);
}

describe('SCIM over HTTP under fuzzed input', () => {
  let s: ScimTestApp;
  const tenants = {} as Record<ProfileName, Tenant>;
  /** Resources created before the fuzzing and never targeted by it, as first read. */
  const untouched: { url: string; token: string; body: unknown }[] = [];

  const send = (t: Tenant, method: string, path: string, raw?: string) =>
    s.request(method, `${t.base}${path}`, {
      token: t.token,
      ...(raw === undefined ? {} : { raw, headers: { 'content-type': 'application/scim+json' } }),
    });
  const read = async (t: Tenant, path: string) => {
    const r = await send(t, 'GET', path);
    check(r, `GET ${path}`);
    return r;
  };

  beforeAll(async () => {
    s = await startScim();
    for (const profile of ['default', 'aws', 'extended'] as const) {
      const dir = `fuzz-${profile}`;
      const token = await s.directory(dir, profile === 'aws' ? 'aws' : 'default');
      const extended = profile === 'extended';
      if (extended)
        for (const e of declaredExtensions)
          await s.app
            .get(DirectoriesService)
            .putSchema(dir, e.urn, extensionSchemaBody.parse(e.body), 'fuzz');
      const t: Tenant = {
        token,
        base: profile === 'aws' ? `/${dir}/scim/v2` : '/scim/v2',
        userId: '',
        groupId: '',
      };
      const user = (userName: string) => ({
        schemas: [USER, ENTERPRISE, ...(extended ? [EXT_USER] : [])],
        userName,
        displayName: userName,
        name: { givenName: 'G', familyName: 'F' },
        emails: [{ value: `${userName}@example.com`, type: 'work', primary: true }],
        [ENTERPRISE]: { department: 'D', manager: { value: 'boss' } },
        ...(extended
          ? {
              [EXT_USER]: {
                costCenter: 'CC',
                badge: true,
                hiredOn: '2026-01-31T12:00:00Z',
                level: 3,
                ratio: 0.5,
                quotas: [
                  { value: 'a', seats: 2, code: 'A', primary: true },
                  { value: 'b', seats: 5 },
                ],
              },
            }
          : {}),
      });
      const groupExt = extended
        ? { schemas: [GROUP, EXT_GROUP], [EXT_GROUP]: { costCenter: 'G', level: 1 } }
        : { schemas: [GROUP] };
      const post = async (path: string, body: unknown) => {
        const r = await s.request('POST', `${t.base}${path}`, { token, body });
        expect(r.status).toBe(201);
        return r.body as { id: string };
      };
      t.userId = (await post('/Users', user(`victim-${profile}`))).id;
      const keep = (await post('/Users', user(`keep-${profile}`))).id;
      t.groupId = (
        await post('/Groups', {
          ...groupExt,
          displayName: `victims-${profile}`,
          members: [{ value: t.userId }],
        })
      ).id;
      const keepGroup = (
        await post('/Groups', {
          ...groupExt,
          displayName: `keep-${profile}`,
          members: [{ value: keep }],
        })
      ).id;
      for (const url of [`${t.base}/Users/${keep}`, `${t.base}/Groups/${keepGroup}`])
        untouched.push({ url, token, body: (await s.request('GET', url, { token })).body });
      tenants[profile] = t;
    }
  });
  afterAll(async () => s.close());

  const tenant = fc.constantFrom<ProfileName>('default', 'aws', 'extended', 'extended');
  /** What the generated input reached in the extended directory (so it is known to be exercised). */
  const reached = new Set<string>();
  const names = (text: string, urn: string) => text.toLowerCase().includes(urn.toLowerCase());

  it('answers generated filters with 200 or a SCIM 400', async () => {
    await fc.assert(
      fc.asyncProperty(
        tenant,
        fc.constantFrom('/Users', '/Groups'),
        filterText,
        async (p, path, f) => {
          const r = await send(tenants[p], 'GET', `${path}?filter=${encodeURIComponent(f)}`);
          check(r, `${p} GET ${path} filter=${f}`);
          if (p === 'extended' && r.status === 200 && names(f, EXT_USER)) reached.add('filter');
          if (
            r.status !== 200 &&
            !(r.status === 400 && ['invalidFilter', 'invalidValue'].includes(r.body.scimType))
          )
            throw new Error(`unexpected ${r.status} ${r.text}`);
        },
      ),
      params(RUNS * 3),
    );
    expect(reached).toContain('filter');
  });

  it('answers generated attributes, excludedAttributes, sortBy and paging without 5xx', async () => {
    const query = fc.record(
      {
        attributes: attrList,
        excludedAttributes: attrList,
        sortBy: attrList,
        sortOrder: fc.constantFrom('ascending', 'descending', 'x'),
        count: pagingParam,
        startIndex: pagingParam,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        tenant,
        fc.constantFrom('/Users', '/Groups', 'user', 'group'),
        query,
        async (p, target, q) => {
          const t = tenants[p];
          const path =
            target === 'user'
              ? `/Users/${t.userId}`
              : target === 'group'
                ? `/Groups/${t.groupId}`
                : target;
          const qs = new URLSearchParams(q as Record<string, string>).toString();
          const r = await send(t, 'GET', `${path}?${qs}`);
          check(r, `${p} GET ${path}?${qs}`);
          if (r.status === 200 && !target.startsWith('/'))
            expect(r.body.id).toBe(target === 'user' ? t.userId : t.groupId);
        },
      ),
      params(RUNS * 2),
    );
  });

  it('applies generated PATCH requests all or nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        tenant,
        fc.constantFrom('Users', 'Groups'),
        patchBody,
        async (p, type, body) => {
          const t = tenants[p];
          const path = `/${type}/${type === 'Users' ? t.userId : t.groupId}`;
          const before = await read(t, path);
          const r = await send(t, 'PATCH', path, body);
          check(r, `${p} PATCH ${path} ${body.slice(0, 500)}`);
          const after = await read(t, path);
          if (r.status >= 400) expect(after.body).toEqual(before.body);
          else if (p === 'extended' && names(body, EXT_USER)) reached.add('patch');
          // Whatever was accepted must still be readable and projectable.
          check(
            await send(
              t,
              'GET',
              `/${type}?excludedAttributes=${encodeURIComponent(`emails,${ENTERPRISE}:manager`)}&count=5`,
            ),
            'list after PATCH',
          );
        },
      ),
      params(RUNS * 2),
    );
    expect(reached).toContain('patch');
  });

  it('creates and replaces from generated bodies, or refuses them without a trace', async () => {
    await fc.assert(
      fc.asyncProperty(
        tenant,
        fc.oneof(
          fc.tuple(fc.constant('Users'), userBody),
          fc.tuple(fc.constant('Groups'), groupBody),
        ),
        fc.boolean(),
        async (p, [type, body], replace) => {
          const t = tenants[p];
          const path = replace ? `/${type}/${type === 'Users' ? t.userId : t.groupId}` : `/${type}`;
          const before = replace ? await read(t, path) : undefined;
          const r = await send(t, replace ? 'PUT' : 'POST', path, body);
          check(r, `${p} ${replace ? 'PUT' : 'POST'} ${path} ${body.slice(0, 500)}`);
          if (r.status >= 400 && before) expect((await read(t, path)).body).toEqual(before.body);
          if (r.status < 300 && p === 'extended' && names(body, EXT_USER)) reached.add('write');
          if (r.status === 201) {
            const got = await read(
              t,
              `/${type}/${r.body.id}?attributes=${encodeURIComponent(`${ENTERPRISE}:department,emails.value,name`)}`,
            );
            expect(got.status).toBe(200);
          }
        },
      ),
      params(RUNS * 2),
    );
    expect(reached).toContain('write');
  });

  it('leaves resources no request targeted exactly as they were (meta.version included)', async () => {
    for (const u of untouched) {
      const r = await s.request('GET', u.url, { token: u.token });
      expect(r.body).toEqual(u.body);
    }
  });
});
