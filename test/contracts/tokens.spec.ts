// `tokens.acquire.v1.<caller>` (request/reply) and `tokens.issued.v1` (event) through the real
// token-broker process: workload identity from dev-azure's cluster issuer, certificate assertion
// signed in the Key Vault stand-in, token from the Entra stand-in. Every reply is checked by the
// contract's reply schema (`request()` decodes with it), every audit event by its schema.
import {
  CONTRACT_HEADER,
  decode,
  decodeEvent,
  request,
  TokenBrokerClient,
  TokenBrokerError,
  tokensAcquireSubject,
  TokensAcquire,
  TokensIssued,
  type EventOf,
} from '@idp/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { claimsOf } from '../support/jwt';
import { startStack, type Stack } from '../support/stack';
import { readStream, waitForStream } from '../support/streams';

jest.setTimeout(60_000);

const SCOPE = 'api://policy-api/.default';

describe('contracts tokens.acquire.v1 / tokens.issued.v1 (token-broker)', () => {
  let stack: Stack;
  let reader: NatsConnection;
  let observer: NatsConnection;
  let issuedToken = '';
  let issuedExpiresOn = 0;

  beforeAll(async () => {
    stack = await startStack({ services: ['token-broker'] });
    [reader, observer] = await Promise.all([
      stack.connect('policy-reader'),
      stack.connect('observer'),
    ]);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers policy-reader on its own subject with a conforming reply carrying an app-only token for the policy API', async () => {
    const reply = await request(
      reader,
      TokensAcquire,
      { registration: 'policy-daemon', scope: SCOPE },
      { subject: tokensAcquireSubject('policy-reader'), timeout: 30_000 },
    );
    if (!reply.ok) throw new Error(`broker refused: ${reply.error.code} ${reply.error.message}`);
    issuedToken = reply.accessToken;
    issuedExpiresOn = reply.expiresOn;
    const claims = claimsOf(reply.accessToken);
    // Cross-tenant: the fabrikam daemon app, in the contoso tenant where its app role is granted.
    expect(claims).toMatchObject({
      aud: stack.seed.app(stack.seed.contoso, 'policy-api').clientId,
      tid: stack.seed.contoso.id,
      appid: stack.seed.app(stack.seed.fabrikam, 'policy-daemon-kv').clientId,
      idtyp: 'app',
      roles: ['Policies.Read.All'],
    });
    expect(reply).toEqual({
      ok: true,
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresOn: expect.any(Number),
    });
    // The broker derives expiry from the token response's expires_in (clients must not parse
    // tokens), so it can be a second off the token's own exp claim.
    expect(Math.abs(reply.expiresOn - Number(claims.exp))).toBeLessThanOrEqual(2);

    // On the wire: the reply names its contract, and decodes with the reply schema.
    const raw = await reader.request(
      tokensAcquireSubject('policy-reader'),
      JSON.stringify({ registration: 'policy-daemon', scope: SCOPE }),
      { timeout: 30_000 },
    );
    expect(raw.headers?.get(CONTRACT_HEADER)).toBe('tokens.acquire.v1');
    expect(decode(TokensAcquire, TokensAcquire.reply, raw.data)).toEqual(reply); // the same token: served from the broker's cache
  });

  it('answers refusals with the contract error codes, also for a request that breaks the request schema', async () => {
    const refused = await request(
      reader,
      TokensAcquire,
      { registration: 'no-such-registration', scope: SCOPE },
      { subject: tokensAcquireSubject('policy-reader'), timeout: 30_000 },
    );
    expect(refused).toEqual({
      ok: false,
      error: { code: 'unauthorized', message: expect.any(String) },
    });
    const notGranted = await request(
      reader,
      TokensAcquire,
      { registration: 'policy-daemon', scope: 'api://northwind-claims/.default' },
      { subject: tokensAcquireSubject('policy-reader'), timeout: 30_000 },
    );
    // Registration names are not discoverable: an unknown one reads exactly like one not granted.
    expect(notGranted).toEqual(refused);

    // The producer validates what it receives: a request missing `scope` gets a conforming bad_request.
    const raw = await reader.request(
      tokensAcquireSubject('policy-reader'),
      JSON.stringify({ registration: 'policy-daemon' }),
      { timeout: 30_000 },
    );
    expect(decode(TokensAcquire, TokensAcquire.reply, raw.data)).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    const notJson = await reader.request(tokensAcquireSubject('policy-reader'), '{nope', {
      timeout: 30_000,
    });
    expect(decode(TokensAcquire, TokensAcquire.reply, notJson.data)).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });

  it('refuses a caller its policy does not know with `unauthorized` (TokenBrokerClient turns it into a typed error)', async () => {
    const intruder = new TokenBrokerClient(await stack.connect('intruder'), 'intruder', {
      timeoutMs: 30_000,
    });
    const err = await intruder.getToken('policy-daemon', SCOPE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenBrokerError);
    expect(err).toMatchObject({ code: 'unauthorized' });
  });

  it('audits each issued token on the TOKENS stream with a conforming tokens.issued.v1 that never contains the token', async () => {
    const msgs = await waitForStream(observer, 'TOKENS', (m) => m.length >= 2);
    const events: EventOf<typeof TokensIssued>[] = msgs.map((m) => {
      expect(m.subject).toBe(TokensIssued.subject);
      expect(m.header.get(CONTRACT_HEADER)).toBe('tokens.issued.v1');
      return decodeEvent(TokensIssued, m.data);
    });
    const uti = String(claimsOf(issuedToken).uti);
    // Two issuances (a miss, then a cache hit); refusals issue nothing.
    expect(events).toEqual([
      expect.objectContaining({
        caller: 'policy-reader',
        registration: 'policy-daemon',
        scope: SCOPE,
        cache: 'miss',
        expiresOn: issuedExpiresOn,
      }),
      expect.objectContaining({
        caller: 'policy-reader',
        registration: 'policy-daemon',
        scope: SCOPE,
        cache: 'hit',
      }),
    ]);
    for (const e of events)
      expect(e.tokenIdHash).toBe(createHash('sha256').update(uti).digest('hex'));
    const wire = (await readStream(observer, 'TOKENS'))
      .map((m) => Buffer.from(m.data).toString('utf8'))
      .join('\n');
    expect(wire).not.toContain(issuedToken);
    expect(wire).not.toContain(issuedToken.split('.')[2]);
  });
});
