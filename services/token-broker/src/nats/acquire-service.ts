import { parseRequest, respond, TokensAcquire, type ReplyOf } from '@idp/contracts';
import type { NatsConnection, Service, ServiceMsg } from 'nats';
import { BrokerError } from '../broker/broker-error';
import type { TokenBroker } from '../broker/token-broker';

/**
 * Who is asking — the design. Every service connects to NATS as its own user. The broker
 * listens on `tokens.acquire.v1.*` (queue group, so replicas share the load) and reads the
 * caller from the last subject token. nats-server permissions give each user publish rights
 * on `tokens.acquire.v1.<itself>` only, so a message on `tokens.acquire.v1.policy-reader` can
 * only have come from the user `policy-reader`: the identity is enforced by the server, and
 * nothing in the payload is trusted for it. Another service cannot even publish there (the
 * server refuses with a permissions violation); a service that may publish to its own subject
 * but asks for something its policy does not grant gets `unauthorized`. Replies go to a
 * per-user inbox prefix (`_INBOX.<user>.>`), so no one can subscribe to another's tokens.
 */
export const ACQUIRE_SUBJECT_WILDCARD = `${TokensAcquire.subject}.*`;
export const SERVICE_NAME = 'token-broker';
export const QUEUE_GROUP = 'token-broker';

type Reply = ReplyOf<typeof TokensAcquire>;

export async function startAcquireService(nc: NatsConnection, broker: TokenBroker, version: string): Promise<Service> {
  // A NATS micro-service: discoverable through $SRV.PING/INFO/STATS.token-broker.
  const service = await nc.services.add({
    name: SERVICE_NAME,
    version,
    description: 'App-only Entra ID tokens; assertions signed in Key Vault',
    queue: QUEUE_GROUP,
  });
  service.addEndpoint('acquire', {
    subject: ACQUIRE_SUBJECT_WILDCARD,
    metadata: { contract: `${TokensAcquire.name}.v${TokensAcquire.version}`, caller: 'last subject token = NATS user' },
    handler: (err, msg) => {
      if (err) return;
      // handle() answers every request itself; this only guards against a bug leaving one unanswered.
      handle(msg, broker).catch(() => msg.respondError(500, 'internal error'));
    },
  });
  return service;
}

async function handle(msg: ServiceMsg, broker: TokenBroker): Promise<void> {
  const caller = msg.subject.slice(TokensAcquire.subject.length + 1);
  let reply: Reply;
  const req = parseRequest(TokensAcquire, msg);
  if (!req.ok) {
    reply = { ok: false, error: { code: 'bad_request', message: req.error.message } };
  } else {
    try {
      const t = await broker.acquire(caller, req.value.registration, req.value.scope);
      reply = { ok: true, accessToken: t.accessToken, tokenType: 'Bearer', expiresOn: t.expiresOn };
    } catch (e) {
      const be = e instanceof BrokerError ? e : new BrokerError('upstream_unavailable', 'token acquisition failed');
      reply = { ok: false, error: { code: be.code, message: be.message, ...(be.aadsts ? { aadsts: be.aadsts } : {}) } };
    }
  }
  if (msg.reply) respond(TokensAcquire, msg, reply);
}
