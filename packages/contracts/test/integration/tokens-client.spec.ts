import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type TestNatsServer } from '@idp/testing';
import {
  parseRequest,
  respond,
  TokenBrokerClient,
  TokenBrokerError,
  tokensAcquireSubject,
  TokensAcquire,
} from '../../src';

describe('TokenBrokerClient', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  const seen: string[] = [];

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    // A stand-in broker: the caller is the subject's last token.
    nc.subscribe(`${TokensAcquire.subject}.*`, {
      callback: (_err, msg) => {
        const req = parseRequest(TokensAcquire, msg);
        if (!req.ok) return;
        seen.push(msg.subject);
        if (req.value.registration === 'nope') {
          respond(TokensAcquire, msg, {
            ok: false,
            error: { code: 'unauthorized', message: 'no', aadsts: 'AADSTS1' },
          });
          return;
        }
        respond(TokensAcquire, msg, {
          ok: true,
          accessToken: `tok-${seen.length}`,
          tokenType: 'Bearer',
          expiresOn: Math.floor(Date.now() / 1000) + 3600,
        });
      },
    });
  });
  afterAll(async () => {
    await nc.close();
    await nats.dispose();
  });

  it('asks on its own per-caller subject and keeps the token until shortly before expiry', async () => {
    const client = new TokenBrokerClient(nc, 'policy-reader');
    const a = await client.getToken('policy-daemon', 'api://policy-api/.default');
    const b = await client.authorization('policy-daemon', 'api://policy-api/.default');
    expect(b).toBe(`Bearer ${a.accessToken}`);
    expect(seen).toEqual([tokensAcquireSubject('policy-reader')]);
    expect(tokensAcquireSubject('policy-reader')).toBe('tokens.acquire.v1.policy-reader');
  });

  it('is usable as an Azure TokenCredential', async () => {
    const t = await new TokenBrokerClient(nc, 'assistant')
      .credential('azure-openai')
      .getToken(['https://cognitiveservices.azure.com/.default']);
    expect(t).toEqual({
      token: expect.stringMatching(/^tok-/),
      expiresOnTimestamp: expect.any(Number),
    });
  });

  it('turns a refusal into a typed error', async () => {
    const err = await new TokenBrokerClient(nc, 'x')
      .getToken('nope', 'api://x/.default')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenBrokerError);
    expect(err).toMatchObject({ code: 'unauthorized', aadsts: 'AADSTS1' });
  });
});
