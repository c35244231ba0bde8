// The audit trail off the reply's path: every token handed out is one tokens.issued.v1 event on
// the TOKENS stream (conforming, deduplicable by its event id), and an event JetStream does not
// store is counted as a failure while callers still get their tokens.
import {
  CONTRACT_HEADER,
  decodeEvent,
  request,
  tokensAcquireSubject,
  TokensAcquire,
  TokensIssued,
  ensureStreams,
} from '@idp/contracts';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { POLICY_SCOPE } from '../support/seed';
import {
  startInProcessBroker,
  startStack,
  type InProcessBroker,
  type Stack,
} from '../support/stack';

describe('token broker audit', () => {
  let stack: Stack;
  let broker: InProcessBroker;
  let reader: NatsConnection;
  let jsm: JetStreamManager;

  const acquireMany = (n: number) =>
    Promise.all(
      Array.from({ length: n }, () =>
        request(
          reader,
          TokensAcquire,
          { registration: 'policy-daemon', scope: POLICY_SCOPE },
          { subject: tokensAcquireSubject('policy-reader'), timeout: 20000 },
        ),
      ),
    );
  const failures = async () => (await broker.metrics.auditFailures.get()).values[0]?.value ?? 0;

  beforeAll(async () => {
    stack = await startStack();
    broker = await startInProcessBroker(stack);
    reader = await stack.connectAs('policy-reader');
    jsm = await jetstreamManager(await stack.connectBroker());
  }, 90000);

  afterAll(async () => {
    await broker?.stop();
    await stack?.stop();
  });

  it('stores one conforming event per token handed out, also under concurrency', async () => {
    const before = (await jsm.streams.info('TOKENS')).state.last_seq;
    const replies = await acquireMany(200);
    expect(replies.every((r) => r.ok)).toBe(true);
    await broker.audit.flush();
    const { state } = await jsm.streams.info('TOKENS');
    expect(state.last_seq - before).toBe(200);
    const ids = new Set<string>();
    for (let seq = before + 1; seq <= state.last_seq; seq++) {
      const m = await jsm.streams.getMessage('TOKENS', { seq });
      if (!m) throw new Error(`TOKENS seq ${seq} missing`);
      const event = decodeEvent(TokensIssued, m.data);
      expect(m.header.get(CONTRACT_HEADER)).toBe('tokens.issued.v1');
      expect(m.header.get('Nats-Msg-Id')).toBe(event.eventId);
      expect(event).toMatchObject({
        caller: 'policy-reader',
        registration: 'policy-daemon',
        scope: POLICY_SCOPE,
      });
      ids.add(event.eventId);
    }
    expect(ids.size).toBe(200);
    expect(await failures()).toBe(0);
  });

  it('counts events JetStream did not store, and still answers callers', async () => {
    await jsm.streams.delete('TOKENS');
    try {
      const replies = await acquireMany(5);
      expect(replies.every((r) => r.ok)).toBe(true);
      await broker.audit.flush();
      expect(await failures()).toBe(5);
    } finally {
      await ensureStreams(jsm, ['TOKENS']);
    }
  });
});
