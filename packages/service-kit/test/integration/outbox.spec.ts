import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Pool } from 'pg';
import {
  decodeEvent,
  ensureStreams,
  PolicyBeneficiariesChanged,
  ScimUserCreated,
  setTraceContextSource,
  traceContextOf,
  type EventOf,
} from '@idp/contracts';
import { startNats, startPostgres, type TestNatsServer, type TestPostgres } from '@idp/testing';
import { applyMigrations, OutboxRelay, OutboxWriter } from '../../src';

const writer = new OutboxWriter();
const stageEvent = (
  tx: { query(sql: string, params: unknown[]): Promise<unknown> },
  c: typeof ScimUserCreated,
  e: EventOf<typeof ScimUserCreated>,
) => writer.stage(tx, c, e);

const OUTBOX_SQL = `CREATE TABLE outbox (id uuid PRIMARY KEY, subject text NOT NULL, payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz, attempts int NOT NULL DEFAULT 0, last_error text, trace_context jsonb);`;

function userCreated(userName: string): EventOf<typeof ScimUserCreated> {
  return {
    eventId: randomUUID(),
    directoryId: 'd1',
    occurredAt: new Date().toISOString(),
    userId: randomUUID(),
    userName,
    active: true,
  };
}

describe('transactional outbox relay', () => {
  let pg: TestPostgres;
  let nats: TestNatsServer;
  let pool: Pool;
  let nc: NatsConnection;
  let relay: OutboxRelay;

  beforeAll(async () => {
    [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    const url = await pg.createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    mkdirSync(join(dir, '001_outbox'));
    writeFileSync(join(dir, '001_outbox', 'migration.sql'), OUTBOX_SQL);
    await applyMigrations({ databaseUrl: url, migrationsDir: dir });
    pool = new Pool({ connectionString: url });
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    await ensureStreams(await jetstreamManager(nc), ['SCIM']);
    relay = new OutboxRelay({ pool, js: () => jetstream(nc), contracts: [ScimUserCreated] });
  });
  afterAll(async () => {
    await relay.stop();
    await nc.close();
    await pool.end();
    await Promise.all([pg.stop(), nats.dispose()]);
  });

  async function streamMessages(): Promise<number> {
    return (await (await jetstreamManager(nc)).streams.info('SCIM')).state.messages;
  }

  it('stores the W3C context of the staging request with the row and publishes the event with it', async () => {
    const traceparent = `00-${'4bf92f3577b34da6a3ce929d0e0e4736'}-${'00f067aa0ba902b7'}-01`;
    setTraceContextSource(() => ({ traceparent, tracestate: 'congo=t61rcWkgMzE' }));
    const e = userCreated('traced');
    try {
      await stageEvent(pool, ScimUserCreated, e);
    } finally {
      setTraceContextSource(() => ({}));
    }
    const { rows } = await pool.query<{ trace_context: unknown }>(
      'SELECT trace_context FROM outbox WHERE id = $1',
      [e.eventId],
    );
    expect(rows[0]?.trace_context).toEqual({ traceparent, tracestate: 'congo=t61rcWkgMzE' });
    await relay.flush();
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info('SCIM');
    const m = await jsm.streams.getMessage('SCIM', { seq: state.last_seq });
    expect(decodeEvent(ScimUserCreated, m!.data).eventId).toBe(e.eventId);
    expect(traceContextOf(m!.header)).toEqual({ traceparent, tracestate: 'congo=t61rcWkgMzE' });
  });

  it('stages nothing when the business transaction rolls back', async () => {
    const c = await pool.connect();
    await c.query('BEGIN');
    await stageEvent(c, ScimUserCreated, userCreated('rolled-back'));
    await c.query('ROLLBACK');
    c.release();
    expect(await relay.pending()).toBe(0);
  });

  it('refuses to stage an event that breaks its contract', async () => {
    await expect(
      stageEvent(pool, ScimUserCreated, { ...userCreated('x'), userId: '' }),
    ).rejects.toThrow(/contract/);
    expect(await relay.pending()).toBe(0);
  });

  it('keeps events through a NATS outage and publishes each exactly once afterwards', async () => {
    const before = await streamMessages();
    await nats.stop();
    const staged = [userCreated('a'), userCreated('b'), userCreated('c')];
    for (const e of staged) await stageEvent(pool, ScimUserCreated, e);
    expect(await relay.flush()).toBe(0); // NATS is down: nothing lost, nothing marked
    expect(await relay.pending()).toBe(3);

    await nats.start();
    // Wait for the client to reconnect, then relay (twice: the second must find nothing).
    for (let i = 0; i < 100 && (await relay.flush()) === 0 && (await relay.pending()) > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    await relay.flush();
    expect(await relay.pending()).toBe(0);
    expect((await streamMessages()) - before).toBe(3);

    const consumer = await jetstream(nc).consumers.get('SCIM');
    const got: string[] = [];
    for (let i = 0; i < before + 3; i++) {
      const m = await consumer.next({ expires: 2000 });
      if (m) got.push(decodeEvent(ScimUserCreated, m.data).userName);
    }
    expect(got.slice(-3)).toEqual(['a', 'b', 'c']); // order kept
  });

  it('relays several batches in staging order, each event once (publishes pipelined per batch)', async () => {
    const before = await streamMessages();
    const names = Array.from({ length: 250 }, (_, i) => `order-${i}`);
    // Distinct created_at values: the relay orders by staging time.
    for (const n of names) await stageEvent(pool, ScimUserCreated, userCreated(n));
    expect(await relay.flush()).toBe(250); // batches of 100: three SELECT/UPDATE rounds
    expect(await relay.pending()).toBe(0);
    expect((await streamMessages()) - before).toBe(250);
    const rows = await pool.query<{ attempts: number }>(
      "SELECT attempts FROM outbox WHERE payload->>'userName' LIKE 'order-%'",
    );
    expect(rows.rows.every((r) => r.attempts === 1)).toBe(true);
    const consumer = await jetstream(nc).consumers.get('SCIM');
    const got: string[] = [];
    for (let i = 0; i < before + 250; i++) {
      const m = await consumer.next({ expires: 2000 });
      if (m) got.push(decodeEvent(ScimUserCreated, m.data).userName);
    }
    expect(got.slice(-250)).toEqual(names);
  });

  it('marks the acknowledged rows of a batch and keeps a refused one for the next tick', async () => {
    // A row whose stream does not exist yet is refused (no responders); the rows around it are not.
    const both = new OutboxRelay({
      pool,
      js: () => jetstream(nc),
      contracts: [ScimUserCreated, PolicyBeneficiariesChanged],
    });
    const before = await streamMessages();
    await stageEvent(pool, ScimUserCreated, userCreated('around-1'));
    const policyEvent = {
      eventId: randomUUID(),
      policyNumber: 'P-1',
      holderOid: 'oid-1',
      policyVersion: 2,
      occurredAt: new Date().toISOString(),
      requestId: 'r-1',
      userFlow: 'B2C_1_signupsignin',
      authTime: 1,
      before: [],
      after: [],
    };
    await writer.stage(pool, PolicyBeneficiariesChanged, policyEvent);
    await stageEvent(pool, ScimUserCreated, userCreated('around-2'));

    expect(await both.flush()).toBe(2);
    expect((await streamMessages()) - before).toBe(2);
    const { rows } = await pool.query<{ attempts: number; last_error: string | null }>(
      'SELECT attempts, last_error FROM outbox WHERE published_at IS NULL',
    );
    expect(rows).toEqual([{ attempts: 1, last_error: expect.stringMatching(/\S/) }]);
    expect(await both.parked()).toBe(0); // refused for now, not unpublishable

    await ensureStreams(await jetstreamManager(nc), ['POLICY']);
    expect(await both.flush()).toBe(1);
    expect(await both.pending()).toBe(0);
    await both.stop();
  });

  it('parks a row that can never be published and keeps relaying the rows behind it', async () => {
    const before = await streamMessages();
    await pool.query('INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3)', [
      randomUUID(),
      ScimUserCreated.subject,
      JSON.stringify({ broken: true }),
    ]);
    await pool.query('INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3)', [
      randomUUID(),
      'no.such.subject.v1',
      '{}',
    ]);
    await stageEvent(pool, ScimUserCreated, userCreated('after-bad-rows'));
    expect(await relay.flush()).toBe(1);
    expect(await relay.pending()).toBe(0);
    expect(await relay.parked()).toBe(2);
    expect((await streamMessages()) - before).toBe(1);
    const { rows } = await pool.query<{ last_error: string }>(
      "SELECT last_error FROM outbox WHERE last_error LIKE 'parked:%' ORDER BY last_error",
    );
    expect(rows.map((r) => r.last_error)).toEqual([
      expect.stringMatching(/contract/),
      expect.stringMatching(/no contract for subject no.such.subject.v1/),
    ]);
  });

  it('publishes in the order the writes happened, not the order their transactions began', async () => {
    // `early` begins first but stages its event only after `late` committed (as a writer waiting
    // on a row lock would): consumers must see late's event first.
    const early = await pool.connect();
    const late = [userCreated('late'), userCreated('early')];
    try {
      await early.query('BEGIN');
      await early.query('SELECT now()'); // the transaction's clock starts here
      await new Promise((r) => setTimeout(r, 20));
      await stageEvent(pool, ScimUserCreated, late[0]!);
      await stageEvent(early, ScimUserCreated, late[1]!);
      await early.query('COMMIT');
    } finally {
      early.release();
    }
    const before = await streamMessages();
    expect(await relay.flush()).toBe(2);
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info('SCIM');
    expect(state.messages - before).toBe(2);
    const names = [];
    for (const seq of [state.last_seq - 1, state.last_seq])
      names.push(
        decodeEvent(ScimUserCreated, (await jsm.streams.getMessage('SCIM', { seq }))!.data)
          .userName,
      );
    expect(names).toEqual(['late', 'early']);
  });

  it('lets JetStream drop a re-publish of a row (crash between publish and mark)', async () => {
    const e = userCreated('dup');
    await stageEvent(pool, ScimUserCreated, e);
    await relay.flush();
    const before = await streamMessages();
    await pool.query('UPDATE outbox SET published_at = NULL WHERE id = $1', [e.eventId]);
    await relay.flush();
    expect(await streamMessages()).toBe(before);
  });

  it('stops between batches with a large backlog, and publishes the rest on the next start', async () => {
    const total = 2000;
    const staged = Array.from({ length: total }, (_, i) => userCreated(`backlog-${i}`));
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const e of staged) await stageEvent(client, ScimUserCreated, e);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const before = await streamMessages();
    const small = new OutboxRelay({
      pool,
      js: () => jetstream(nc),
      contracts: [ScimUserCreated],
      batchSize: 5,
      intervalMs: 10,
    });
    small.start();
    while ((await relay.pending()) === total) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await small.stop();
    const stopTook = Date.now() - started;
    const left = await relay.pending();
    // Stopped within a batch or so, not after the whole backlog.
    expect(left).toBeGreaterThan(0);
    expect(stopTook).toBeLessThan(1000);
    const publishedSoFar = (await streamMessages()) - before;
    expect(publishedSoFar).toBe(total - left);

    small.start();
    const deadline = Date.now() + 30_000;
    while ((await relay.pending()) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await small.stop();
    expect(await relay.pending()).toBe(0);
    // Each row once: every staged event is in the stream, none was marked twice.
    expect((await streamMessages()) - before).toBe(total);
    const { rows } = await pool.query<{ attempts: number }>(
      "SELECT attempts FROM outbox WHERE payload->>'userName' LIKE 'backlog-%'",
    );
    expect(rows).toHaveLength(total);
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  }, 60_000);
});
