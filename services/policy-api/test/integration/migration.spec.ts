// The identities migration keeps every existing policy: each belongs to the B2C identity that
// created it, so B2C users still reach theirs and migrated users can be linked to it.
import { applyMigrations } from '@idp/service-kit';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { ExternalIdTenant } from '../support/external-id';
import { split, type HistoryBody, type PolicyBody } from '../support/fixtures';
import { Harness } from '../support/harness';

const migrations = join(__dirname, '..', '..', 'prisma', 'migrations');
const IDENTITIES = '20261207000000_policy_identities';

describe('migration to identity-held policies', () => {
  let h: Harness;
  const oid = randomUUID();
  const dir = mkdtempSync(join(tmpdir(), 'policy-migrations-'));

  /** The schema before identities, with a policy and one history entry written the old way. */
  async function oldSchemaWithData(databaseUrl: string): Promise<void> {
    for (const m of readdirSync(migrations).filter((m) => m < IDENTITIES))
      cpSync(join(migrations, m), join(dir, m), { recursive: true });
    await applyMigrations({ databaseUrl, migrationsDir: dir });
    const db = new Pool({ connectionString: databaseUrl, max: 1 });
    try {
      const id = randomUUID();
      await db.query(
        `INSERT INTO policies (id, number, holder_oid, version, beneficiaries) VALUES ($1, 'PN0000000042', $2, 2, $3)`,
        [id, oid, JSON.stringify(split(['Ann Example']))],
      );
      await db.query(
        `INSERT INTO policy_history (id, policy_id, version, changed_by, user_flow, auth_time, request_id, before, after) VALUES ($1, $2, 2, $3, 'b2c_1_signupsignin_mfa', now(), $4, '[]', $5)`,
        [randomUUID(), id, oid, randomUUID(), JSON.stringify(split(['Ann Example']))],
      );
    } finally {
      await db.end();
    }
  }

  beforeAll(async () => {
    h = await Harness.start({}, { externalId: true, beforeBoot: oldSchemaWithData });
  }, 60000);
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the B2C holder still reads their policy and its history', async () => {
    const r = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await h.issuer.userToken({ oid }),
    });
    expect([r.status, r.body.policyNumber, r.body.version, r.body.holderOid]).toEqual([
      200,
      'PN0000000042',
      2,
      oid,
    ]);
    const trail = await h.call<HistoryBody>('GET', '/policies/me/history', {
      token: await h.issuer.userToken({ oid }),
    });
    expect(trail.body.items).toEqual([
      expect.objectContaining({ version: 2, changedBy: oid, changedByProvider: 'b2c' }),
    ]);
  });

  it('a migrated user is linked to the pre-existing policy', async () => {
    const ext = h.externalId as ExternalIdTenant;
    const r = await h.call<PolicyBody>('GET', '/policies/me', {
      token: await ext.userToken({ oid: randomUUID(), legacyOid: oid }),
    });
    expect([r.status, r.body.policyNumber]).toEqual([200, 'PN0000000042']);
  });
});
