// Consumer side: every contract's schema refuses a message missing a required field, and the
// consumers the platform runs (TokenBrokerClient reading broker replies, OutboxRelay reading
// outbox rows before they reach JetStream) refuse a non-conforming message with a
// ContractViolation instead of crashing or passing it on.
import {
  ALL_CONTRACTS,
  ContractViolation,
  decode,
  PolicyBeneficiariesChanged,
  TokenBrokerClient,
  TokenBrokerError,
  TokensAcquire,
  type Contract,
} from '@idp/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { z } from 'zod';
import { startStack, type Stack } from '../support/stack';
import { readStream } from '../support/streams';

jest.setTimeout(60_000);

const now = new Date().toISOString();
const enc = new TextEncoder();

interface Sample {
  schema: z.ZodType;
  value: Record<string, unknown>;
  /** Fields the contract documents as optional; every other one is required. */
  optional: string[];
}

const scimUser = {
  eventId: randomUUID(),
  directoryId: 'd1',
  occurredAt: now,
  requestId: 'r1',
  userId: 'u1',
  externalId: 'x1',
  userName: 'ada@example.test',
  active: true,
};
const scimGroup = {
  eventId: randomUUID(),
  directoryId: 'd1',
  occurredAt: now,
  requestId: 'r1',
  groupId: 'g1',
  externalId: 'x1',
  displayName: 'Eng',
  membersAdded: ['u1'],
  membersRemoved: [],
};

/** A valid message of each contract (per schema: request and both reply shapes of a request contract). */
function samples(c: Contract): Sample[] {
  if (c.kind === 'request') {
    if (c.subject !== TokensAcquire.subject)
      throw new Error(`no sample for request contract ${c.subject}: add one`);
    return [
      {
        schema: c.request,
        value: { registration: 'policy-daemon', scope: 'api://policy-api/.default' },
        optional: [],
      },
      {
        schema: c.reply,
        value: { ok: true, accessToken: 'eyJ.x.y', tokenType: 'Bearer', expiresOn: 1_900_000_000 },
        optional: [],
      },
      {
        schema: c.reply,
        value: { ok: false, error: { code: 'unauthorized', message: 'no' } },
        optional: [],
      },
    ];
  }
  if (c.name.startsWith('scim.user.'))
    return [{ schema: c.schema, value: scimUser, optional: ['requestId', 'externalId'] }];
  if (c.name.startsWith('scim.group.'))
    return [{ schema: c.schema, value: scimGroup, optional: ['requestId', 'externalId'] }];
  const value: Record<string, Record<string, unknown>> = {
    'policy.beneficiaries.changed': {
      eventId: randomUUID(),
      policyNumber: 'PN0000000001',
      holderOid: randomUUID(),
      policyVersion: 2,
      occurredAt: now,
      requestId: 'r1',
      userFlow: 'b2c_1_signupsignin_mfa',
      authTime: 1_800_000_000,
      before: [],
      after: [{ name: 'Carol', relationship: 'spouse', sharePercent: 100 }],
    },
    'scim.token.expiring': {
      eventId: randomUUID(),
      directoryId: 'd1',
      tokenId: 't1',
      tokenName: 'Entra',
      expiresAt: now,
      daysLeft: 3,
    },
    'scim.directory.deleted': {
      eventId: randomUUID(),
      directoryId: 'd1',
      occurredAt: now,
      force: true,
      usersRemoved: 2,
      groupsRemoved: 1,
      liveTokensRemoved: 1,
    },
    'tokens.issued': {
      eventId: randomUUID(),
      caller: 'policy-reader',
      registration: 'policy-daemon',
      scope: 'api://policy-api/.default',
      tokenIdHash: 'a'.repeat(64),
      expiresOn: 1_900_000_000,
      cache: 'miss',
      occurredAt: now,
    },
  };
  const v = value[c.name];
  if (!v) throw new Error(`no sample for event contract ${c.subject}: add one`);
  return [{ schema: c.schema, value: v, optional: [] }];
}

const without = (o: Record<string, unknown>, key: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

describe('contract schemas refuse incomplete messages', () => {
  it.each(ALL_CONTRACTS.map((c) => [c.subject, c] as const))('%s', (_subject, c) => {
    for (const { schema, value, optional } of samples(c)) {
      expect(schema.safeParse(value).success).toBe(true);
      const bytes = (v: unknown) => enc.encode(JSON.stringify(v));
      for (const key of Object.keys(value)) {
        const result = schema.safeParse(without(value, key));
        expect({ key, accepted: result.success }).toEqual({
          key,
          accepted: optional.includes(key),
        });
        if (optional.includes(key)) continue;
        // What a consumer calls: a ContractViolation that names the contract, never a TypeError later.
        const thrown = (() => {
          try {
            decode(c, schema, bytes(without(value, key)));
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        expect(thrown).toBeInstanceOf(ContractViolation);
        expect((thrown as ContractViolation).contract).toBe(`${c.name}.v${c.version}`);
      }
    }
  });

  it('refuses a reply error without its code (nested required field)', () => {
    expect(TokensAcquire.reply.safeParse({ ok: false, error: { message: 'no' } }).success).toBe(
      false,
    );
  });
});

describe('platform consumers refuse non-conforming messages over a real NATS server', () => {
  let stack: Stack;
  let broker: NatsConnection;

  beforeAll(async () => {
    stack = await startStack({ services: ['policy-api'] });
    broker = await stack.connect('token-broker');
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('TokenBrokerClient rejects a broker reply that breaks tokens.acquire.v1 with ContractViolation, and stays usable', async () => {
    // A broker that got the contract wrong, under the broker's own NATS user and permissions.
    const replies: Record<string, string> = {
      'wrong-literal': JSON.stringify({
        ok: true,
        accessToken: 't',
        tokenType: 'bearer',
        expiresOn: 1_900_000_000,
      }),
      'missing-token': JSON.stringify({ ok: true, tokenType: 'Bearer', expiresOn: 1_900_000_000 }),
      'unknown-code': JSON.stringify({ ok: false, error: { code: 'teapot', message: 'no' } }),
      'not-json': '<html>',
      good: JSON.stringify({
        ok: true,
        accessToken: 'good-token',
        tokenType: 'Bearer',
        expiresOn: Math.floor(Date.now() / 1000) + 3600,
      }),
      refused: JSON.stringify({ ok: false, error: { code: 'unauthorized', message: 'no' } }),
    };
    const sub = broker.subscribe(`${TokensAcquire.subject}.*`, {
      callback: (_err, msg) => {
        const { registration } = msg.json<{ registration: string }>();
        msg.respond(replies[registration] ?? '');
      },
    });
    await broker.flush();
    try {
      const reader = await stack.connect('policy-reader');
      const client = new TokenBrokerClient(reader, 'policy-reader', { timeoutMs: 10_000 });
      for (const registration of ['wrong-literal', 'missing-token', 'unknown-code', 'not-json']) {
        const err = await client
          .getToken(registration, 'api://policy-api/.default')
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ContractViolation);
        expect(err).toMatchObject({ contract: 'tokens.acquire.v1' });
      }
      // Nothing was cached or broken: a conforming reply still works, a conforming refusal stays typed.
      await expect(client.getToken('good', 'api://policy-api/.default')).resolves.toMatchObject({
        accessToken: 'good-token',
      });
      await expect(client.getToken('refused', 'api://policy-api/.default')).rejects.toBeInstanceOf(
        TokenBrokerError,
      );
      expect(reader.isClosed()).toBe(false);
    } finally {
      sub.unsubscribe();
    }
  });

  it('OutboxRelay (in the running policy-api) refuses an outbox row that breaks its contract: not published, error recorded, process alive', async () => {
    const pool = new Pool({ connectionString: stack.databaseUrl('policy-api'), max: 1 });
    try {
      // A row as an older/buggy writer could leave it: holderOid missing.
      const id = randomUUID();
      const payload = {
        eventId: id,
        policyNumber: 'PN0000000001',
        policyVersion: 2,
        occurredAt: new Date().toISOString(),
        requestId: 'r1',
        userFlow: 'b2c_1_signupsignin_mfa',
        authTime: 1,
        before: [],
        after: [],
      };
      await pool.query('INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3)', [
        id,
        PolicyBeneficiariesChanged.subject,
        JSON.stringify(payload),
      ]);

      let row:
        { attempts: number; last_error: string | null; published_at: Date | null } | undefined;
      for (let i = 0; i < 200 && !(row && row.attempts > 0); i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 100));
        row = (
          await pool.query<{
            attempts: number;
            last_error: string | null;
            published_at: Date | null;
          }>('SELECT attempts, last_error, published_at FROM outbox WHERE id = $1', [id])
        ).rows[0];
      }
      expect(row?.attempts).toBeGreaterThan(0);
      expect(row?.published_at).toBeNull();
      expect(row?.last_error).toMatch(
        /does not match contract policy\.beneficiaries\.changed\.v1: holderOid/,
      );

      const observer = await stack.connect('observer');
      expect(
        (await readStream(observer, 'POLICY')).map((m) => m.header.get('Nats-Msg-Id')),
      ).not.toContain(id);
      expect(stack.proc('policy-api').child.exitCode).toBeNull();
      expect((await fetch(`${stack.url('policy-api')}/readyz`)).status).toBe(200);
    } finally {
      await pool.end();
    }
  });
});
