import {
  contractHeaders,
  parseRequest,
  respond,
  traceContextOf,
  TokensAcquire,
  type ReplyOf,
} from '@idp/contracts';
import { firstDuplicateKey, InjectNats, withMessageSpan } from '@idp/service-kit';
import { Injectable } from '@nestjs/common';
import { Svcm, type Service, type ServiceMsg } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import { BrokerError } from '../broker/broker-error';
import { TokenBroker, type IssuedToken } from '../broker/token-broker';
import { BrokerMetrics } from '../metrics/broker-metrics';

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
 *
 * The reply subject, unlike the subject, is not checked by nats-server: a caller can name any
 * subject, and the broker's reply would be published there with the broker's rights
 * (`allow_responses`, `tokens.issued.>`, its stream's `$JS.API.STREAM.*.TOKENS`): a token written into the audit stream, a
 * forged reply in another caller's inbox. So a request is served only when its reply subject is
 * under the caller's own inbox prefix; anything else (no reply subject included) is dropped
 * unanswered, before any work, and counted.
 */
export const ACQUIRE_SUBJECT_WILDCARD = `${TokensAcquire.subject}.*`;
export const SERVICE_NAME = 'token-broker';
export const QUEUE_GROUP = 'token-broker';

type Reply = ReplyOf<typeof TokensAcquire>;
/** The subject template, not the caller's subject: span names and attributes stay low-cardinality. */
const SPAN_ATTRIBUTES = {
  'messaging.destination.template': ACQUIRE_SUBJECT_WILDCARD,
  'messaging.operation.type': 'process',
};

/** Serves `tokens.acquire.v1.*` as a NATS micro-service (discoverable through $SRV.PING/INFO/STATS.token-broker). */
@Injectable()
export class AcquireService {
  private service?: Service;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly broker: TokenBroker,
    private readonly metrics: BrokerMetrics,
  ) {}

  async start(version: string): Promise<void> {
    const service = await new Svcm(this.nc).add({
      name: SERVICE_NAME,
      version,
      description: 'App-only Entra ID tokens; assertions signed in Key Vault',
      queue: QUEUE_GROUP,
    });
    const replies = new TokenReplies();
    const broker = this.broker;
    const dropped = {
      no_reply: this.metrics.dropped.labels({ reason: 'no_reply' }),
      foreign_reply: this.metrics.dropped.labels({ reason: 'foreign_reply' }),
    };
    service.addEndpoint('acquire', {
      subject: ACQUIRE_SUBJECT_WILDCARD,
      metadata: {
        contract: `${TokensAcquire.name}.v${TokensAcquire.version}`,
        caller: 'last subject token = NATS user',
      },
      handler: (err, msg) => {
        if (err) return;
        if (!msg.reply) return dropped.no_reply.inc();
        if (!msg.reply.startsWith(callerInboxPrefix(callerOf(msg))))
          return dropped.foreign_reply.inc();
        // handle() answers every request itself; this only guards against a bug leaving one unanswered.
        // A SERVER span, child of the caller's (W3C context in the request headers); Key Vault and
        // Entra calls below are its children. Without tracing this is a direct call.
        withMessageSpan(
          'server',
          TokensAcquire.subject,
          traceContextOf(msg.headers),
          SPAN_ATTRIBUTES,
          () => handle(msg, broker, replies),
        ).catch(() => msg.respondError(500, 'internal error'));
      },
    });
    this.service = service;
  }

  /** Stops serving: the queue subscription ends, requests go to the other replicas. */
  async stop(): Promise<void> {
    const service = this.service;
    this.service = undefined;
    await service?.stop();
  }
}

async function handle(msg: ServiceMsg, broker: TokenBroker, replies: TokenReplies): Promise<void> {
  const caller = callerOf(msg);
  let reply: Reply;
  // Requests are validated (JSON + the contract's small request schema): it is untrusted input.
  const req = parseRequest(TokensAcquire, msg);
  // A name given twice: JSON.parse keeps the last silently, another reader of the message may take the first.
  const repeated = req.ok ? firstDuplicateKey(msg.string()) : undefined;
  const unknown = req.ok && repeated === undefined ? firstUnknownMember(msg) : undefined;
  if (!req.ok) {
    reply = { ok: false, error: { code: 'bad_request', message: req.error.message } };
  } else if (repeated !== undefined) {
    reply = {
      ok: false,
      error: { code: 'bad_request', message: `member ${JSON.stringify(repeated)} given twice` },
    };
  } else if (unknown !== undefined) {
    reply = {
      ok: false,
      error: {
        code: 'bad_request',
        message: `member ${JSON.stringify(unknown.slice(0, 64))} is not part of ${TokensAcquire.subject}`,
      },
    };
  } else {
    try {
      const t = await broker.acquire(caller, req.value.registration, req.value.scope);
      msg.respond(replies.encode(t), { headers: REPLY_HEADERS });
      return;
    } catch (e) {
      const be =
        e instanceof BrokerError
          ? e
          : new BrokerError('upstream_unavailable', 'token acquisition failed');
      reply = {
        ok: false,
        error: { code: be.code, message: be.message, ...(be.aadsts ? { aadsts: be.aadsts } : {}) },
      };
    }
  }
  // Refusals: rare, validated against the reply schema on the way out.
  respond(TokensAcquire, msg, reply);
}

const KNOWN_MEMBERS: ReadonlySet<string> = new Set(Object.keys(TokensAcquire.request.shape));

/**
 * The first top-level member the request contract does not name. The contract's schema reads
 * tolerantly (it strips unknown members), but here every member would choose the credential
 * handed out: a caller sending `tenantId`, `claims` or `forceRefresh` (a field of a later
 * version, or a guess) would silently get a token other than the one it asked for. A request is
 * answered only as it was meant, so an unknown member is bad_request; a new member needs a broker
 * that understands it (a new contract version), and callers fail loudly until they have one.
 */
function firstUnknownMember(msg: ServiceMsg): string | undefined {
  const value: unknown = msg.json();
  if (value === null || typeof value !== 'object') return undefined;
  return Object.keys(value).find((k) => !KNOWN_MEMBERS.has(k));
}

/** The caller: the last subject token, the NATS user the server let publish there. */
const callerOf = (msg: ServiceMsg): string => msg.subject.slice(TokensAcquire.subject.length + 1);
/** Where the caller's replies may go: its own inbox (its connection's `inboxPrefix`, all it may subscribe to). */
const callerInboxPrefix = (caller: string): string => `_INBOX.${caller}.`;

/** The same on every reply; the client encodes (never mutates) headers on each publish. */
const REPLY_HEADERS = contractHeaders(TokensAcquire);
const MAX_REMEMBERED_REPLIES = 256;

/**
 * Encoded success replies by token. Cache hits hand out the same few tokens over and over, so
 * each reply (about 1.5 kB of JSON) is encoded once, not per request. Not re-validated against
 * the reply schema on this path: the contract test (test/contracts/tokens.spec.ts) decodes the
 * broker's replies with it, and the shape is fixed here.
 */
class TokenReplies {
  private readonly encoder = new TextEncoder();
  private readonly byToken = new Map<string, { expiresOn: number; bytes: Uint8Array }>();

  encode(t: IssuedToken): Uint8Array {
    const known = this.byToken.get(t.accessToken);
    if (known?.expiresOn === t.expiresOn) return known.bytes;
    const reply: Extract<Reply, { ok: true }> = {
      ok: true,
      accessToken: t.accessToken,
      tokenType: 'Bearer',
      expiresOn: t.expiresOn,
    };
    const bytes = this.encoder.encode(JSON.stringify(reply));
    if (this.byToken.size >= MAX_REMEMBERED_REPLIES) this.byToken.clear();
    this.byToken.set(t.accessToken, { expiresOn: t.expiresOn, bytes });
    return bytes;
  }
}
