// The NATS users the chart renders, loaded into a real nats-server: each service connects with
// its own password, only tokenBroker.callers may ask the broker for tokens, nobody can ask in
// another service's name or listen in on token requests; and the in-chart server's full
// nats.conf (with the include) is a configuration nats-server accepts.
import { natsServerBinary, startNats, type TestNatsServer } from '@idp/testing';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, StringCodec, type NatsConnection } from 'nats';
import { ofKind, renderSet } from './support/chart';

const sc = StringCodec();
const users = ['portal', 'policy-api', 'scim', 'token-broker'];
const passwords = Object.fromEntries(users.map((u) => [u, randomBytes(12).toString('hex')]));
const varOf = (u: string) => `NATS_PASSWORD_${u.toUpperCase().replace(/-/g, '_')}`;

const configMap = (suffix: string) => ofKind(renderSet('kind').objects, 'ConfigMap').find((c) => c.metadata.name.endsWith(suffix))!.data!;

let nats: TestNatsServer;
const open: NatsConnection[] = [];

async function as(user: string, password = passwords[user]): Promise<NatsConnection> {
  const nc = await connect({ servers: nats.url, user, pass: password, reconnect: false });
  open.push(nc);
  return nc;
}

/** A request that the server refuses (permissions) or nobody answers fails; resolves to the reply text otherwise. */
async function ask(nc: NatsConnection, subject: string): Promise<string> {
  try {
    const m = await nc.request(subject, sc.encode('{}'), { timeout: 1500 });
    return sc.decode(m.data);
  } catch (e) {
    return `failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

beforeAll(async () => {
  // Passwords as config variables: nats-server resolves $NAME from config variables and the
  // environment alike (the in-chart server gets them from the environment).
  const vars = users.map((u) => `${varOf(u)}: ${JSON.stringify(passwords[u])}`);
  nats = await startNats({ config: [...vars, configMap('-nats-auth')['auth.conf']].join('\n') });
});

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
  await nats?.dispose();
});

describe('NATS users and permissions rendered by the chart (kind values)', () => {
  it('lets each service in with its own password only', async () => {
    for (const u of users) expect((await as(u)).isClosed()).toBe(false);
    await expect(as('portal', passwords.scim)).rejects.toThrow(/Authorization/i);
  });

  it('only the configured callers can ask the broker, each only in its own name', async () => {
    const broker = await as('token-broker');
    const seen: string[] = [];
    broker.subscribe('tokens.acquire.v1.*', {
      queue: 'token-broker',
      callback: (_err, m) => {
        seen.push(m.subject);
        m.respond(sc.encode('issued'));
      },
    });
    await broker.flush();

    // kind values: callers = { policy-api: [...] }
    expect(await ask(await as('policy-api'), 'tokens.acquire.v1.policy-api')).toBe('issued');
    expect(await ask(await as('scim'), 'tokens.acquire.v1.scim')).toMatch(/^failed/);
    expect(await ask(await as('portal'), 'tokens.acquire.v1.portal')).toMatch(/^failed/);
    expect(await ask(await as('policy-api'), 'tokens.acquire.v1.scim')).toMatch(/^failed/);
    expect(seen).toEqual(['tokens.acquire.v1.policy-api']);
  });

  it('no other service can listen in on token requests', async () => {
    const portal = await as('portal');
    const errors: string[] = [];
    const sub = portal.subscribe('tokens.acquire.v1.*', { callback: (err) => err && errors.push(err.message) });
    await portal.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(sub.isClosed() || errors.length > 0).toBe(true);
  });

  it('the broker answers only to the inbox of a pending request', async () => {
    const portal = await as('portal'); // allowed to listen on policy.>
    const received: string[] = [];
    portal.subscribe('policy.>', { callback: (_e, m) => received.push(m.subject) });
    await portal.flush();
    const broker = await as('token-broker');
    const errors: string[] = [];
    (async () => {
      for await (const s of broker.status()) if (s.type === 'error') errors.push(String(s.data));
    })().catch(() => undefined);
    broker.publish('policy.beneficiaries.changed.v1', sc.encode('forged'));
    broker.publish('_INBOX.someone-else', sc.encode('unsolicited'));
    await broker.flush();
    await new Promise((r) => setTimeout(r, 300));
    expect(errors).toEqual(['PERMISSIONS_VIOLATION', 'PERMISSIONS_VIOLATION']);
    expect(received).toEqual([]);
  });
});

describe('in-chart NATS server configuration', () => {
  it('nats-server accepts the rendered nats.conf with its included auth.conf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-conf-'));
    try {
      const main = configMap('-nats')['nats.conf'].replace('/data/jetstream', join(dir, 'js')).replace('/var/run/nats/nats.pid', join(dir, 'nats.pid'));
      writeFileSync(join(dir, 'nats.conf'), main);
      writeFileSync(join(dir, 'auth.conf'), configMap('-nats-auth')['auth.conf']);
      const env = { ...Object.fromEntries(users.map((u) => [varOf(u), passwords[u]])), POD_NAME: 'identity-nats-0' };
      const r = spawnSync(natsServerBinary(), ['-t', '-c', join(dir, 'nats.conf')], { env, encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`).toMatch(/configuration file .* is valid/);
      expect(r.status).toBe(0);
      // Without the passwords in its environment the server refuses to start.
      const bare = spawnSync(natsServerBinary(), ['-t', '-c', join(dir, 'nats.conf')], { env: { POD_NAME: 'x' }, encoding: 'utf8' });
      expect(bare.status).not.toBe(0);
      expect(bare.stderr).toContain('NATS_PASSWORD_PORTAL');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
