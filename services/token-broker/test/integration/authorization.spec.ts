// Per-caller authorization on a real nats-server with per-service users: the caller's identity
// is the NATS user the server authenticated, never a field of the request.
import { request, tokensAcquireSubject, TokensAcquire } from '@idp/contracts';
import { Logger } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  connect,
  PermissionViolationError,
  RequestError,
  type NatsConnection,
} from '@nats-io/transport-node';
import { callerPassword } from '../support/nats-users';
import { CLAIMS_SCOPE, POLICY_SCOPE } from '../support/seed';
import {
  startInProcessBroker,
  startStack,
  type InProcessBroker,
  type Stack,
} from '../support/stack';

describe('who may ask for which token', () => {
  let stack: Stack;
  let broker: InProcessBroker;

  beforeAll(async () => {
    stack = await startStack();
    broker = await startInProcessBroker(stack);
  }, 90000);

  afterAll(async () => {
    await broker?.stop();
    await stack?.stop();
  });

  it("nats-server refuses a service publishing on another caller's subject: it never reaches the broker", async () => {
    const intruder = await stack.connectAs('intruder');
    const calls = broker.tap.calls;
    // nats.js rejects a request whose publish the server refused, the permissions violation as its cause.
    const err = await request(
      intruder,
      TokensAcquire,
      { registration: 'policy-daemon', scope: POLICY_SCOPE },
      { subject: tokensAcquireSubject('policy-reader'), timeout: 3000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    const cause = (err as RequestError).cause;
    expect(cause).toBeInstanceOf(PermissionViolationError);
    expect(cause).toMatchObject({
      operation: 'publish',
      subject: tokensAcquireSubject('policy-reader'),
    });
    expect(broker.tap.calls).toBe(calls);
    expect((await broker.metrics.requests.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
  });

  it("a service cannot read another caller's replies (subscribing to its inbox is refused)", async () => {
    const intruder = await connect({
      servers: stack.nats.url,
      user: 'intruder',
      pass: callerPassword('intruder'),
    });
    const sub = intruder.subscribe('_INBOX.policy-reader.>');
    const outcome = (async () => {
      try {
        for await (const m of sub) return `received ${m.subject}`;
        return 'ended';
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    })();
    await intruder.flush();
    expect(await outcome).toMatch(/permissions violation for subscription/i);
    await intruder.close();
  });

  it('answers unauthorized to a caller asking for a registration or scope its policy does not grant', async () => {
    const sync = await stack.connectAs('claims-sync');
    const as = (nc: NatsConnection, caller: string, registration: string, scope: string) =>
      request(
        nc,
        TokensAcquire,
        { registration, scope },
        { subject: tokensAcquireSubject(caller), timeout: 10000 },
      );
    expect(await as(sync, 'claims-sync', 'policy-daemon', POLICY_SCOPE)).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
    expect(
      await as(sync, 'claims-sync', 'northwind-claims', 'https://graph.microsoft.com/.default'),
    ).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const intruder = await stack.connectAs('intruder');
    expect(await as(intruder, 'intruder', 'policy-daemon', POLICY_SCOPE)).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
    expect(await as(intruder, 'intruder', 'nope', POLICY_SCOPE)).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
    // And the allowed pairing works, from the same connection.
    expect(await as(sync, 'claims-sync', 'northwind-claims', CLAIMS_SCOPE)).toMatchObject({
      ok: true,
      tokenType: 'Bearer',
    });
    const errors = await broker.metrics.errors.get();
    expect(errors.values.find((v) => v.labels.code === 'unauthorized')?.value).toBe(4);
  });

  it('answers an unknown registration exactly as one the caller may not use; only the log and metric tell them apart', async () => {
    const sync = await stack.connectAs('claims-sync');
    const ask = async (registration: string) => {
      const msg = await sync.request(
        tokensAcquireSubject('claims-sync'),
        JSON.stringify({ registration, scope: POLICY_SCOPE }),
        { timeout: 10000 },
      );
      return { text: msg.string(), headers: msg.headers?.toString() };
    };
    const refusals = async () =>
      Object.fromEntries(
        (await broker.metrics.refusals.get()).values.map((v) => [v.labels.reason, v.value]),
      );
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const before = await refusals();
    const calls = broker.tap.calls;
    try {
      // Warm both paths, then compare byte for byte: same payload, same headers.
      await ask('policy-daemon');
      await ask('no-such-registration');
      const known = await ask('policy-daemon');
      const unknown = await ask('no-such-registration');
      expect(unknown.text).toBe(known.text);
      expect(unknown.headers).toBe(known.headers);
      expect(JSON.parse(known.text)).toEqual({
        ok: false,
        error: { code: 'unauthorized', message: expect.any(String) },
      });
      expect(known.text).not.toContain('policy-daemon');

      // Same work for both (no upstream call on either); the log and metric say which it was.
      expect(broker.tap.calls).toBe(calls);
      const after = await refusals();
      expect((after.not_granted ?? 0) - (before.not_granted ?? 0)).toBe(2);
      expect((after.unknown_registration ?? 0) - (before.unknown_registration ?? 0)).toBe(2);
      const logged = warn.mock.calls.map(([entry]) => entry as Record<string, unknown>);
      expect(logged.slice(-2)).toEqual([
        expect.objectContaining({
          msg: 'token request refused',
          reason: 'not_granted',
          caller: 'claims-sync',
          registration: 'policy-daemon',
        }),
        expect.objectContaining({
          msg: 'token request refused',
          reason: 'unknown_registration',
          caller: 'claims-sync',
          registration: 'no-such-registration',
        }),
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it('logs at most ten refusals a minute per caller however fast it retries; the metric counts them all', async () => {
    const reader = await stack.connectAs('policy-reader');
    const total = async () =>
      (await broker.metrics.refusals.get()).values.reduce((n, v) => n + v.value, 0);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const before = await total();
    try {
      for (let i = 0; i < 30; i++) {
        const msg = await reader.request(
          tokensAcquireSubject('policy-reader'),
          JSON.stringify({ registration: `no-such-registration-${i}`, scope: POLICY_SCOPE }),
          { timeout: 10000 },
        );
        expect(msg.json()).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      }
      const lines = warn.mock.calls
        .map(([entry]) => entry as Record<string, unknown>)
        .filter((e) => e.msg === 'token request refused' && e.caller === 'policy-reader');
      expect(lines.length).toBeLessThanOrEqual(10);
      expect((await total()) - before).toBe(30);
    } finally {
      warn.mockRestore();
    }
  });

  it('answers bad_request to a malformed request instead of failing', async () => {
    const reader = await stack.connectAs('policy-reader');
    const msg = await reader.request(tokensAcquireSubject('policy-reader'), '{"registration":', {
      timeout: 5000,
    });
    expect(msg.json()).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it('answers bad_request to a request that gives a member twice (JSON.parse would keep the last)', async () => {
    const reader = await stack.connectAs('policy-reader');
    const ask = async (text: string) =>
      (await reader.request(tokensAcquireSubject('policy-reader'), text, { timeout: 5000 })).json();
    const calls = broker.tap.calls;
    expect(
      await ask(
        `{"registration":"northwind-claims","registration":"policy-daemon","scope":"${POLICY_SCOPE}"}`,
      ),
    ).toEqual({
      ok: false,
      error: { code: 'bad_request', message: 'member "registration" given twice' },
    });
    // Escaped spellings are the same name.
    expect(
      await ask(`{"registration":"policy-daemon","scope":"x","sc\\u006fpe":"${POLICY_SCOPE}"}`),
    ).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(broker.tap.calls).toBe(calls);
    // The same names in a nested object and within strings are no repetition (the request is
    // refused only for its unknown member "x").
    expect(
      await ask(
        `{"registration":"policy-daemon","scope":"${POLICY_SCOPE}","x":{"scope":"\\"scope\\":"}}`,
      ),
    ).toEqual({
      ok: false,
      error: { code: 'bad_request', message: 'member "x" is not part of tokens.acquire.v1' },
    });
  });

  it('answers bad_request to a request with a member the contract does not name (it would be ignored, and the caller get another token than it asked for)', async () => {
    const reader = await stack.connectAs('policy-reader');
    const ask = async (body: Record<string, unknown>) =>
      (
        await reader.request(tokensAcquireSubject('policy-reader'), JSON.stringify(body), {
          timeout: 5000,
        })
      ).json();
    const calls = broker.tap.calls;
    const asked = { registration: 'policy-daemon', scope: POLICY_SCOPE };
    for (const [member, value] of [
      ['tenantId', '00000000-0000-0000-0000-000000000001'],
      ['claims', '{"access_token":{"xms_cc":{"values":["cp1"]}}}'],
      ['forceRefresh', true],
      ['caller', 'token-broker'],
      ['__proto__', { registration: 'northwind-claims' }],
      ['Scope', 'api://other/.default'],
    ] as const) {
      const text = `{"registration":"policy-daemon","scope":"${POLICY_SCOPE}",${JSON.stringify(member)}:${JSON.stringify(value)}}`;
      expect(
        (
          await reader.request(tokensAcquireSubject('policy-reader'), text, { timeout: 5000 })
        ).json(),
      ).toEqual({
        ok: false,
        error: {
          code: 'bad_request',
          message: `member ${JSON.stringify(member)} is not part of tokens.acquire.v1`,
        },
      });
    }
    expect(broker.tap.calls).toBe(calls);
    // The two members the contract names are all a request needs.
    expect(await ask(asked)).toMatchObject({ ok: true });
  });

  it("serves no request whose reply subject is outside the caller's own inbox, or missing", async () => {
    const reader = await stack.connectAs('policy-reader');
    const sync = await stack.connectAs('claims-sync');
    const jsm = await jetstreamManager(await stack.connectBroker());
    const body = JSON.stringify({ registration: 'policy-daemon', scope: POLICY_SCOPE });
    // Another caller waiting on its inbox: it must not receive a reply it never asked for.
    const foreign = sync.subscribe('_INBOX.claims-sync.waiting');
    const received: string[] = [];
    void (async () => {
      for await (const m of foreign) received.push(m.string());
    })();
    await sync.flush();
    const issued = async () =>
      (await broker.metrics.requests.get()).values.reduce((n, v) => n + v.value, 0);
    const before = {
      issued: await issued(),
      events: (await jsm.streams.info('TOKENS')).state.last_seq,
    };
    // The server checks only the subject: any reply subject gets through to the broker.
    for (const reply of ['tokens.issued.v1', '_INBOX.claims-sync.waiting', '$SRV.PING'])
      for (const data of [body, '{'])
        reader.publish(tokensAcquireSubject('policy-reader'), data, { reply });
    reader.publish(tokensAcquireSubject('policy-reader'), body); // no reply subject
    await reader.flush();
    // A request from the same connection after them, answered: the others were seen and dropped.
    expect(
      await request(
        reader,
        TokensAcquire,
        { registration: 'policy-daemon', scope: POLICY_SCOPE },
        { subject: tokensAcquireSubject('policy-reader'), timeout: 10000 },
      ),
    ).toMatchObject({ ok: true });
    await broker.audit.flush();
    await sync.flush();
    expect(received).toEqual([]);
    // Nothing written into the audit stream but the one real issuance, and no token acquired for the dropped ones.
    expect((await jsm.streams.info('TOKENS')).state.last_seq - before.events).toBe(1);
    expect((await issued()) - before.issued).toBe(1);
    const dropped = await broker.metrics.dropped.get();
    expect(dropped.values.find((v) => v.labels.reason === 'foreign_reply')?.value).toBe(6);
    expect(dropped.values.find((v) => v.labels.reason === 'no_reply')?.value).toBe(1);
    foreign.unsubscribe();
  });
});
