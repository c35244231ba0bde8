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
import {
  ALL_CONTRACTS,
  ensureStreams,
  STREAMS,
  type EventContract,
  type StreamName,
} from '@idp/contracts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { ofKind, parseAndValidate, renderSet, renderYaml } from './support/chart';

/** A file of a rendered ConfigMap (the one whose name ends with `suffix`). */
const configFile = (suffix: string, key: string): string => {
  const data = ofKind(renderSet('kind').objects, 'ConfigMap').find((c) =>
    c.metadata.name.endsWith(suffix),
  )?.data;
  const file = data?.[key];
  if (file === undefined) throw new Error(`no ConfigMap *${suffix} with ${key} rendered`);
  return file;
};
const authConf = () => configFile('-nats-auth', 'auth.conf');
/** The NATS users the chart renders, and those the broker's caller policy names. */
const users = [...authConf().matchAll(/user: "([^"]+)"/g)].flatMap(([, u]) => (u ? [u] : []));
const callers = Object.keys(
  (JSON.parse(configFile('-token-broker', 'config.json')) as { callers: Record<string, unknown> })
    .callers,
);
// Letter first: nats-server parses $VARIABLE values from the environment like config values.
const passwords = Object.fromEntries(users.map((u) => [u, `n${randomBytes(12).toString('hex')}`]));
const varOf = (u: string) => `NATS_PASSWORD_${u.toUpperCase().replace(/-/g, '_')}`;

let nats: TestNatsServer;
const open: NatsConnection[] = [];

async function as(user: string, password = passwords[user]): Promise<NatsConnection> {
  // Replies come to the user's own inbox, as @idp/service-kit connects.
  const nc = await connect({
    servers: nats.url,
    user,
    pass: password,
    reconnect: false,
    inboxPrefix: `_INBOX.${user}`,
  });
  open.push(nc);
  return nc;
}

/** A request that the server refuses (permissions) or nobody answers fails; resolves to the reply text otherwise. */
async function ask(nc: NatsConnection, subject: string): Promise<string> {
  try {
    const m = await nc.request(subject, '{}', { timeout: 1500 });
    return m.string();
  } catch (e) {
    return `failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

beforeAll(async () => {
  // Passwords as config variables: nats-server resolves $NAME from config variables and the
  // environment alike (the in-chart server gets them from the environment).
  const vars = users.map((u) => `${varOf(u)}: ${JSON.stringify(passwords[u])}`);
  nats = await startNats({ config: [...vars, authConf()].join('\n') });
});

afterAll(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
  await nats?.dispose();
});

describe('NATS users and permissions rendered by the chart (kind values)', () => {
  it('lets each service in with its own password only', async () => {
    for (const u of users) expect((await as(u)).isClosed()).toBe(false);
    await expect(as('policy-api', passwords.scim)).rejects.toThrow(/Authorization/i);
  });

  it('renders no user for the portal, which publishes and subscribes to nothing', async () => {
    expect(users).not.toContain('portal');
    await expect(as('portal', passwords.scim)).rejects.toThrow(/Authorization/i);
  });

  it('only the configured callers can ask the broker, each only in its own name', async () => {
    expect(users).toEqual(
      expect.arrayContaining(['policy-api', 'scim', 'token-broker', ...callers]),
    );
    expect(callers.length).toBeGreaterThan(0);
    const broker = await as('token-broker');
    const seen: string[] = [];
    broker.subscribe('tokens.acquire.v1.*', {
      queue: 'token-broker',
      callback: (_err, m) => {
        seen.push(m.subject);
        m.respond('issued');
      },
    });
    await broker.flush();

    const asked: Record<string, string> = {};
    for (const u of users.filter((x) => x !== 'token-broker'))
      asked[u] = await ask(await as(u), `tokens.acquire.v1.${u}`);
    expect(
      Object.entries(asked)
        .filter(([, r]) => r === 'issued')
        .map(([u]) => u)
        .sort(),
    ).toEqual([...callers].sort());
    // A caller cannot ask in someone else's name.
    expect(await ask(await as(callers[0]!), 'tokens.acquire.v1.scim')).toMatch(/^failed/);
    expect(seen.sort()).toEqual(callers.map((c) => `tokens.acquire.v1.${c}`).sort());
  });

  it('each user reads only its own inbox', async () => {
    const scim = await as('scim');
    const errors: string[] = [];
    scim.subscribe(`_INBOX.${callers[0]}.>`, {
      callback: (err) => void (err && errors.push(err.message)),
    });
    await scim.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(errors.join()).toMatch(/permissions/i);
  });

  it('no other service can listen in on token requests', async () => {
    const scim = await as('scim');
    const errors: string[] = [];
    const sub = scim.subscribe('tokens.acquire.v1.*', {
      callback: (err) => void (err && errors.push(err.message)),
    });
    await scim.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(sub.isClosed() || errors.length > 0).toBe(true);
  });

  it('the broker answers only to the inbox of a pending request', async () => {
    const broker = await as('token-broker');
    const refused: Array<{ operation: string; subject: string }> = [];
    (async () => {
      for await (const s of broker.status())
        if (s.type === 'error' && s.error instanceof PermissionViolationError)
          refused.push({ operation: s.error.operation, subject: s.error.subject });
    })().catch(() => undefined);
    broker.publish('policy.beneficiaries.changed.v1', 'forged');
    broker.publish('_INBOX.someone-else', 'unsolicited');
    await broker.flush();
    await new Promise((r) => setTimeout(r, 300));
    expect(refused).toEqual([
      { operation: 'publish', subject: 'policy.beneficiaries.changed.v1' },
      { operation: 'publish', subject: '_INBOX.someone-else' },
    ]);
  });
});

/** The JetStream stream each service publishes its events into (services/<name>/src/app.module.ts). */
const STREAM_OF: Record<string, StreamName> = {
  'policy-api': 'POLICY',
  scim: 'SCIM',
  'token-broker': 'TOKENS',
};

/** Resolves to the JetStream API's answer, or "refused" when nats-server denies the publish. */
async function jsApi(nc: NatsConnection, subject: string): Promise<string> {
  try {
    const m = await nc.request(subject, '', { timeout: 1500 });
    return m.string();
  } catch (e) {
    return e instanceof PermissionViolationError ||
      /permission/i.test(e instanceof Error ? e.message : '')
      ? 'refused'
      : `failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

describe('JetStream rights rendered by the chart (kind values)', () => {
  it('each service creates its own stream and publishes its events into it, as at boot', async () => {
    for (const [user, stream] of Object.entries(STREAM_OF)) {
      const nc = await as(user);
      // What @idp/service-kit does at boot (jetstreamManager checks $JS.API.INFO), twice: create, then update.
      await ensureStreams(await jetstreamManager(nc), [stream]);
      await ensureStreams(await jetstreamManager(nc), [stream]);
      const subject = STREAMS[stream].subjects[0].replace('>', 'chart-test.v1');
      const ack = await jetstream(nc).publish(subject, '{}', { timeout: 1500 });
      expect(ack.stream).toBe(stream);
    }
  });

  // Every event of @idp/contracts on its real subject (scim.directory.deleted.v1 included): a new
  // event outside its service's rights, or in a stream its publisher may not write, fails here.
  it('each event contract can be published by the service owning its stream only, and lands in that stream', async () => {
    const events = ALL_CONTRACTS.filter((c): c is EventContract => c.kind === 'event');
    expect(events.map((e) => e.subject)).toContain('scim.directory.deleted.v1');
    const owner = Object.fromEntries(Object.entries(STREAM_OF).map(([u, s]) => [s, u]));
    for (const stream of new Set(events.map((e) => e.stream)))
      await ensureStreams(await jetstreamManager(await as(owner[stream]!)), [stream]);
    const outcome: string[] = [];
    for (const e of events) {
      for (const user of users) {
        const answer = await jsApi(await as(user), e.subject);
        const landed = (JSON.parse(answer.startsWith('{') ? answer : '{}') as { stream?: string })
          .stream;
        outcome.push(`${e.subject} by ${user}: ${landed ? `in ${landed}` : answer}`);
      }
    }
    expect(outcome).toEqual(
      events.flatMap((e) =>
        users.map(
          (u) => `${e.subject} by ${u}: ${u === owner[e.stream] ? `in ${e.stream}` : 'refused'}`,
        ),
      ),
    );
  });

  it("no service can delete, purge, read or consume another's stream, the broker's audit stream included", async () => {
    const audit = STREAMS.TOKENS.name;
    for (const user of users.filter((u) => u !== 'token-broker')) {
      const nc = await as(user);
      for (const op of ['STREAM.DELETE', 'STREAM.PURGE', 'STREAM.MSG.GET', 'CONSUMER.CREATE'])
        expect(`${user} ${op}: ${await jsApi(nc, `$JS.API.${op}.${audit}`)}`).toBe(
          `${user} ${op}: refused`,
        );
      expect(`${user}: ${await jsApi(nc, `$JS.API.STREAM.LIST`)}`).toBe(`${user}: refused`);
    }
    // Not even its own: a stream owner may only create, update and describe it.
    const broker = await as('token-broker');
    for (const op of ['STREAM.DELETE', 'STREAM.PURGE', 'CONSUMER.CREATE'])
      expect(`${op}: ${await jsApi(broker, `$JS.API.${op}.${audit}`)}`).toBe(`${op}: refused`);
  });

  it('the broker answers discovery for its own service name only and never publishes on $SRV itself', async () => {
    // An operator's user with $SRV rights (messaging.extraUsers): none of the chart's has them.
    const conf = ofKind(
      parseAndValidate(
        renderYaml({
          valuesFiles: ['values-kind.yaml'],
          set: [
            'messaging.extraUsers[0].name=policy-reader',
            'messaging.extraUsers[1].name=operator',
            'messaging.extraUsers[1].publish[0]=$SRV.>',
          ],
        }),
        [],
      ).objects,
      'ConfigMap',
    ).find((c) => c.metadata.name.endsWith('-nats-auth'))?.data?.['auth.conf'];
    const pw = { 'token-broker': passwords['token-broker']!, operator: 'nOperator1' };
    const vars = [...users, 'operator'].map(
      (u) => `${varOf(u)}: ${JSON.stringify(pw[u as keyof typeof pw] ?? 'nUnused1')}`,
    );
    const server = await startNats({ config: [...vars, conf].join('\n') });
    const on = (user: keyof typeof pw) =>
      connect({
        servers: server.url,
        user,
        pass: pw[user],
        reconnect: false,
        inboxPrefix: `_INBOX.${user}`,
      }).then((nc) => (open.push(nc), nc));
    try {
      const broker = await on('token-broker');
      const refused: string[] = [];
      (async () => {
        for await (const st of broker.status())
          if (st.type === 'error' && st.error instanceof PermissionViolationError)
            refused.push(`${st.error.operation} ${st.error.subject}`);
      })().catch(() => undefined);
      // The subjects @nats-io/services subscribes for a service named token-broker.
      for (const subject of ['$SRV.PING', '$SRV.PING.token-broker', '$SRV.STATS.token-broker.id1'])
        broker.subscribe(subject, { callback: (_e, m) => void m.respond('pong') });
      broker.subscribe('$SRV.PING.policy-api', { callback: () => undefined });
      broker.publish('$SRV.PING', 'unsolicited');
      await broker.flush();
      await new Promise((r) => setTimeout(r, 300));
      expect(refused.sort()).toEqual(['publish $SRV.PING', 'subscription $SRV.PING.policy-api']);
      const operator = await on('operator');
      for (const subject of ['$SRV.PING', '$SRV.PING.token-broker', '$SRV.STATS.token-broker.id1'])
        expect(`${subject}: ${await ask(operator, subject)}`).toBe(`${subject}: pong`);
    } finally {
      await server.dispose();
    }
  });
});

describe('in-chart NATS server configuration', () => {
  it('nats-server accepts the rendered nats.conf with its included auth.conf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-conf-'));
    try {
      const main = configFile('-nats', 'nats.conf')
        .replace('/data/jetstream', join(dir, 'js'))
        .replace('/var/run/nats/nats.pid', join(dir, 'nats.pid'));
      writeFileSync(join(dir, 'nats.conf'), main);
      writeFileSync(join(dir, 'auth.conf'), configFile('-nats-auth', 'auth.conf'));
      const env = {
        ...Object.fromEntries(users.map((u) => [varOf(u), passwords[u]])),
        POD_NAME: 'identity-nats-0',
      };
      const r = spawnSync(natsServerBinary(), ['-t', '-c', join(dir, 'nats.conf')], {
        env,
        encoding: 'utf8',
      });
      expect(`${r.stdout}${r.stderr}`).toMatch(/configuration file .* is valid/);
      expect(r.status).toBe(0);
      // A password with a leading digit is parsed as a number and refused (hence the README's rule).
      const digit = spawnSync(natsServerBinary(), ['-t', '-c', join(dir, 'nats.conf')], {
        env: { ...env, NATS_PASSWORD_POLICY_API: '7e3f00aa' },
        encoding: 'utf8',
      });
      expect(digit.status).not.toBe(0);
      // Without the passwords in its environment the server refuses to start.
      const bare = spawnSync(natsServerBinary(), ['-t', '-c', join(dir, 'nats.conf')], {
        env: { POD_NAME: 'x' },
        encoding: 'utf8',
      });
      expect(bare.status).not.toBe(0);
      expect(bare.stderr).toContain('NATS_PASSWORD_POLICY_API');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Each user's permissions in a nats-server authorization block: { user: "publish …; subscribe …; responder" }. */
function permissionsOf(conf: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const chunk of conf.split(/user: "/).slice(1)) {
    const user = chunk.slice(0, chunk.indexOf('"'));
    const list = (kind: string, mode: string) =>
      (
        JSON.parse(
          new RegExp(`${kind}: \\{ ${mode}: (\\[[^\\]]*\\])`).exec(chunk)?.[1] ?? '[]',
        ) as string[]
      )
        .slice()
        .sort()
        .join(' ');
    out[user] = [
      `publish allow [${list('publish', 'allow')}] deny [${list('publish', 'deny')}]`,
      `subscribe allow [${list('subscribe', 'allow')}]`,
      chunk.includes('allow_responses: { max: 1, expires: "30s" }') ? 'responder' : 'no responses',
    ].join('; ');
  }
  return out;
}

describe('npm run up (scripts/local-topology.mjs)', () => {
  it('gives its NATS users the permissions the chart renders for kind', () => {
    const dev = mkdtempSync(join(tmpdir(), 'idp-topology-'));
    try {
      const r = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { topology } = await import(${JSON.stringify(join(__dirname, '..', '..', 'scripts', 'local-topology.mjs'))});
           process.stdout.write(topology.natsConfig({ port: 4222, storeDir: ${JSON.stringify(join(dev, 'nats'))} }));`,
        ],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      const local = permissionsOf(r.stdout);
      expect(Object.keys(local).sort()).toEqual([...users].sort());
      // The parse found the lists (two empty parses would agree too).
      expect(local.scim).toMatch(/^publish allow \[\$JS\.API\.INFO .*scim\.>\]/);
      expect(local['token-broker']).toMatch(/tokens\.acquire\.v1\.\*.*; responder$/);
      expect(local).toEqual(permissionsOf(authConf()));
    } finally {
      rmSync(dev, { recursive: true, force: true });
    }
  });
});
