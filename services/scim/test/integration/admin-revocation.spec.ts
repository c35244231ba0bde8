import { Pool } from 'pg';
import { TokenInvalidationListener } from '../../src/tokens/token-invalidation';
import {
  startReplicaPair,
  type ScimAdminApp,
  type ScimTestApp,
  runAdminCli,
} from '../support/scim-app';

/** The token cache's TTL: a revocation seen only after it was not announced. */
const CACHE_MS = 5000;

// Revocation is final everywhere at once: a replica that cached the token (up to 5 s) drops it when
// another replica or the CLI revokes it, through PostgreSQL LISTEN/NOTIFY; with that channel down,
// the cache's TTL still bounds it, and the channel comes back by itself.
describe('token revocation across replicas and the CLI', () => {
  let a: ScimAdminApp;
  let b: ScimTestApp;
  beforeAll(async () => {
    ({ a, b } = await startReplicaPair());
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  const run = (args: string[]) => runAdminCli(a.s.databaseUrl, ...args);

  /** A token of `dir`, used once on replica b so that b has it cached. */
  const cachedOnB = async (dir: string): Promise<{ id: string; token: string }> => {
    if ((await a.asAdmin('GET', `/admin/directories/${dir}`)).status === 404)
      await a.asAdmin('POST', '/admin/directories', { id: dir });
    const t = await a.asAdmin('POST', `/admin/directories/${dir}/tokens`, { name: 'Entra' });
    expect((await b.request('GET', '/scim/v2/Users?count=1', { token: t.body.token })).status).toBe(
      200,
    );
    return { id: t.body.id, token: t.body.token };
  };

  /** Milliseconds until replica b refuses `token` (polling), or Infinity after `within`. */
  const refusedAfter = async (token: string, within: number): Promise<number> => {
    const start = Date.now();
    while (Date.now() - start < within) {
      if ((await b.request('GET', '/scim/v2/Users?count=1', { token })).status === 401)
        return Date.now() - start;
      await new Promise((r) => setTimeout(r, 10));
    }
    return Infinity;
  };

  it('a revocation through another replica is refused by this one within a second, not after the 5 s cache', async () => {
    const t = await cachedOnB('repl');
    const revoked = await a.asAdmin('DELETE', `/admin/directories/repl/tokens/${t.id}`);
    expect(revoked.body.status).toBe('revoked');
    expect(await refusedAfter(t.token, 1000)).toBeLessThan(1000);
    // And it stays refused.
    expect((await b.request('GET', '/scim/v2/Users', { token: t.token })).status).toBe(401);
  });

  it('a revocation with the CLI is refused by every replica within a second', async () => {
    const t = await cachedOnB('repl-cli');
    // Cached by replica a too.
    expect((await a.s.request('GET', '/scim/v2/Users', { token: t.token })).status).toBe(200);
    const r = await run(['token', 'revoke', 'repl-cli', t.id]);
    expect(r.code).toBe(0);
    expect(await refusedAfter(t.token, 1000)).toBeLessThan(1000);
    expect((await a.s.request('GET', '/scim/v2/Users', { token: t.token })).status).toBe(401);
  });

  it('deleting a directory (force) on another replica ends its tokens there at once', async () => {
    const t = await cachedOnB('repl-dir');
    const r = await a.asAdmin('DELETE', '/admin/directories/repl-dir?force=true');
    expect(r.status).toBe(200);
    expect(await refusedAfter(t.token, 1000)).toBeLessThan(1000);
  });

  it('a directory setting changed on another replica applies there at once', async () => {
    const token = (await cachedOnB('repl-prof')).token;
    const before = await b.request('GET', '/scim/v2/ServiceProviderConfig', { token });
    expect(before.body.sort.supported).toBe(true);
    await a.asAdmin('PUT', '/admin/directories/repl-prof', { profile: 'aws' });
    let supported = true;
    const start = Date.now();
    while (supported && Date.now() - start < 1000) {
      supported = (await b.request('GET', '/scim/v2/ServiceProviderConfig', { token })).body.sort
        .supported;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(supported).toBe(false);
  });

  it('with the channel down falls back to the cache TTL, then reconnects and is prompt again', async () => {
    const listener = b.app.get(TokenInvalidationListener);
    expect(listener.listening).toBe(true);
    const t = await cachedOnB('repl-down');
    const db = new Pool({ connectionString: a.s.databaseUrl, max: 1 });
    try {
      // Cut every listening connection (both replicas'), as a failover or a proxy would.
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN scim_invalidation%' AND pid <> pg_backend_pid()`,
      );
      for (let i = 0; i < 100 && listener.listening; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(listener.listening).toBe(false);
      await run(['token', 'revoke', 'repl-down', t.id]);
      // Not announced to b, whose cache still holds the token for at most its TTL (since the
      // reconnection clears the cache, possibly sooner).
      const after = await refusedAfter(t.token, CACHE_MS + 1000);
      expect(after).toBeLessThanOrEqual(CACHE_MS + 100);
      for (let i = 0; i < 300 && !listener.listening; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(listener.listening).toBe(true);
      const t2 = await cachedOnB('repl-down');
      await run(['token', 'revoke', 'repl-down', t2.id]);
      expect(await refusedAfter(t2.token, 1000)).toBeLessThan(1000);
    } finally {
      await db.end();
    }
  }, 30_000);
});
