import { Client } from 'pg';
import { foldCase } from '../../src/filter/case-fold';
import { FOLD_FROM } from '../../src/filter/case-fold-table';
import { GROUP, patchOp, startScim, USER, type ScimTestApp } from '../support/scim-app';

// Case-insensitive matching is one fold on both sides (foldCase in the service, scim_fold in SQL):
// filters on columns and on document attributes, value paths, every string operator, userName and
// group displayName uniqueness and PATCH value filters agree for any text, including a final Σ,
// Turkish İ, ß/ẞ and ligatures (each code point to its simple lowercase; nothing expands, and ς
// stays ς as in PostgreSQL's lower()).
describe('case folding agrees between the service and PostgreSQL', () => {
  let s: ScimTestApp;
  let token: string;
  beforeAll(async () => {
    s = await startScim();
    token = await s.directory('fold');
  });
  afterAll(() => s.close());

  const create = (body: Record<string, unknown>) =>
    s.request('POST', '/scim/v2/Users', { token, body: { schemas: [USER], ...body } });
  const ids = async (filter: string, type = 'Users', tok = token): Promise<string[]> => {
    const r = await s.request('GET', `/scim/v2/${type}?filter=${encodeURIComponent(filter)}`, {
      token: tok,
    });
    expect(r.status).toBe(200);
    return (r.body.Resources as { id: string }[]).map((x) => x.id).sort();
  };
  const q = (v: string) => JSON.stringify(v);

  it('finds Greek and Turkish text whatever its case, by column, document attribute and value path', async () => {
    const u = await create({
      userName: 'ΟΔΟΣ-user',
      displayName: 'ΟΔΟΣ İ',
      title: 'ΟΔΟΣ',
      emails: [{ type: 'work', value: 'ΟΔΟΣ@x.com' }],
      name: { familyName: 'İSTANBUL' },
    });
    expect(u.status).toBe(201);
    const filters = [
      'displayName eq "ΟΔΟΣ İ"',
      'displayName eq "οδοσ i"',
      'displayName co "ΟΔΟΣ"',
      'displayName sw "οδοσ"',
      'displayName ew "Σ İ"',
      'title eq "ΟΔΟΣ"',
      'title eq "οδοσ"',
      'title ew "Σ"',
      'title ge "ΟΔΟΣ" and title le "οδοσ"',
      'userName eq "οδοσ-USER"',
      'userName co "ΟΣ-"',
      'userName sw "ΟΔΟΣ"',
      'emails.value eq "ΟΔΟΣ@x.com"',
      'emails.value eq "οδοσ@X.COM"',
      'emails[value eq "ΟΔΟΣ@x.com"]',
      'emails[value eq "Οδοσ@x.com"]',
      'emails[value co "ΟΣ@"]',
      'emails co "Σ@X"',
      'emails ew "Σ@X.COM"',
      'name.familyName eq "istanbul"',
      'name.familyName sw "İS"',
    ];
    for (const f of filters) expect([f, await ids(f)]).toEqual([f, [u.body.id]]);
    // ne is exactly not (eq); gt excludes equal text in any case.
    expect(await ids('title ne "οδοσ"')).not.toContain(u.body.id);
    // ς is a lowercase letter of its own (its simple lowercase is itself), on both sides alike.
    expect(await ids('title eq "οδος"')).toEqual([]);
    expect(await ids('emails[value eq "οδος@x.com"]')).toEqual([]);
    expect(await ids('title gt "ΟΔΟΣ"')).not.toContain(u.body.id);
    expect(await ids('emails.value ne "ΟΔΟΣ@X.COM"')).not.toContain(u.body.id);
  });

  it('folds ß, ẞ and ligatures per code point, the same way on both sides (no expansion to ss / fi)', async () => {
    const u = await create({
      userName: 'Straße-ﬁx',
      title: 'STRAẞE ﬁ',
      emails: [{ value: 'straẞe@x.com' }],
    });
    expect(u.status).toBe(201);
    for (const f of [
      'userName eq "STRAẞE-ﬁX"',
      'title eq "straße ﬁ"',
      'emails.value eq "STRASSE@x.com" or emails.value eq "straße@X.com"',
      'emails[value eq "STRAßE@x.com"]',
    ])
      expect([f, await ids(f)]).toEqual([f, [u.body.id]]);
    for (const f of [
      'userName eq "strasse-fix"',
      'title eq "strasse fi"',
      'emails.value eq "strasse@x.com"',
      'emails[value eq "strasse@x.com"]',
    ])
      expect([f, await ids(f)]).toEqual([f, []]);
  });

  it('agrees for every code point with a case mapping: stored columns, documents and parameters', async () => {
    const tok = await s.directory('fold-all');
    const cps = [...FOLD_FROM];
    const chunks: string[] = [];
    for (let i = 0; i < cps.length; i += 120) chunks.push(cps.slice(i, i + 120).join(''));
    // Upper-case text stored, folded text asked for, and the other way round.
    for (const [n, chunk] of chunks.entries()) {
      for (const [stored, asked] of [
        [chunk, foldCase(chunk)],
        [foldCase(chunk), chunk],
      ] as const) {
        const r = await s.request('POST', '/scim/v2/Users', {
          token: tok,
          body: {
            schemas: [USER],
            userName: `${stored}-${n}`,
            title: stored,
            emails: [{ value: `${stored}@x` }],
          },
        });
        // The second spelling of a userName is the same name (uniqueness folds too).
        if (stored !== chunk) {
          expect(r.status).toBe(409);
          expect(r.body).toMatchObject({ scimType: 'uniqueness' });
          continue;
        }
        expect(r.status).toBe(201);
        const id = r.body.id as string;
        for (const f of [
          `userName eq ${q(`${asked}-${n}`)}`,
          `title eq ${q(asked)}`,
          `emails.value eq ${q(`${asked}@x`)}`,
          `emails[value eq ${q(`${asked}@x`)}]`,
          `emails.value co ${q(asked.slice(0, 40))}`,
          `emails[value sw ${q(asked.slice(0, 40))}]`,
        ])
          expect([n, f.slice(0, 20), await ids(f, 'Users', tok)]).toEqual([
            n,
            f.slice(0, 20),
            [id],
          ]);
      }
    }
  });

  it('refuses a userName or group displayName that differs only by Σ/σ or İ/i (409 uniqueness)', async () => {
    expect((await create({ userName: 'ΟΔΟΣ' })).status).toBe(201);
    for (const name of ['οδοσ', 'Οδοσ', 'ΟΔΟσ'])
      expect(await create({ userName: name })).toMatchObject({
        status: 409,
        body: { scimType: 'uniqueness' },
      });
    expect((await create({ userName: 'İNCİ' })).status).toBe(201);
    expect((await create({ userName: 'inci' })).status).toBe(409);

    const group = (displayName: string) =>
      s.request('POST', '/scim/v2/Groups', { token, body: { schemas: [GROUP], displayName } });
    const g = await group('ΚΟΣ');
    expect(g.status).toBe(201);
    for (const name of ['κοσ', 'Κοσ'])
      expect(await group(name)).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
    expect(await ids('displayName eq "κοσ"', 'Groups')).toEqual([g.body.id]);
    expect(await ids('displayName co "ΟΣ"', 'Groups')).toEqual([g.body.id]);
  });

  it('matches PATCH value filters with the same fold', async () => {
    const u = await create({
      userName: 'patch-fold',
      emails: [{ type: 'work', value: 'οδοσ@x.com' }],
    });
    expect(u.status).toBe(201);
    const r = await s.request('PATCH', `/scim/v2/Users/${u.body.id}`, {
      token,
      body: patchOp({ op: 'replace', path: 'emails[value eq "ΟΔΟΣ@X.COM"].type', value: 'home' }),
    });
    expect(r.status).toBe(200);
    expect(r.body.emails).toEqual([{ type: 'home', value: 'οδοσ@x.com' }]);
  });

  it('keeps indexed lookups on their indexes', async () => {
    const db = new Client({ connectionString: s.databaseUrl });
    await db.connect();
    try {
      await db.query('SET enable_seqscan = off');
      const plan = async (sql: string, params: unknown[]) =>
        (await db.query(`EXPLAIN ${sql}`, params)).rows.map((x) => x['QUERY PLAN']).join('\n');
      expect(
        await plan(
          'SELECT id FROM scim_users u WHERE u.directory_id = $1 AND u.user_name_lower = $2',
          ['fold', foldCase('ΟΔΟΣ')],
        ),
      ).toMatch(/Index Scan[^]*user_name_lower = 'οδοσ'::text/);
      expect(
        await plan(
          // The query shape filter-to-sql sends for displayName co (its own statement, planned with the value).
          `SELECT id FROM scim_users u WHERE scim_fold(u.display_name) LIKE $1`,
          [`%${foldCase('ΟΔΟΣ')}%`],
        ),
      ).toContain('scim_users_display_name_trgm');
      expect(
        await plan('SELECT id FROM scim_users u WHERE u.emails_lower @> ARRAY[$1::text]', [
          foldCase('ΟΔΟΣ@x.com'),
        ]),
      ).toContain('scim_users_emails_lower_idx');
    } finally {
      await db.end();
    }
  });
});
