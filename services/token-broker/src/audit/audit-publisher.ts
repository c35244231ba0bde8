import {
  activeTraceContext,
  contractHeaders,
  TokensIssued,
  type EventOf,
  type TraceContext,
} from '@idp/contracts';
import { InjectNats } from '@idp/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import {
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { createHash, randomUUID } from 'node:crypto';
import { AUDIT_INBOX_PREFIX } from '../broker/broker.tokens';
import { BrokerMetrics } from '../metrics/broker-metrics';

export interface Issuance {
  caller: string;
  registration: string;
  scope: string;
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
  cache: 'hit' | 'miss';
}

/** An event without a JetStream ack by then counts as a failure (js.publish's default timeout). */
export const AUDIT_ACK_TIMEOUT_MS = 5000;

/** SHA-256 (hex) of the token's `uti` (Entra) or `jti`: the audit trail never holds the token. */
export function tokenIdHash(accessToken: string): string {
  let id: string | undefined;
  try {
    const payload = JSON.parse(
      Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    id =
      typeof payload.uti === 'string'
        ? payload.uti
        : typeof payload.jti === 'string'
          ? payload.jti
          : undefined;
  } catch {
    id = undefined;
  }
  return createHash('sha256')
    .update(id ?? accessToken)
    .digest('hex');
}

const dec = new TextDecoder();
const enc = new TextEncoder();

/**
 * Publishes `tokens.issued.v1` to JetStream (stream TOKENS) for every token handed out, off the
 * reply's path. This is the cache-hit path's largest cost, so:
 * - events are queued and published after the replies of the same turn (setImmediate), in one go;
 * - each is an asynchronous JetStream publish: a core publish whose reply subject is one shared
 *   ack subscription (like the Go client's PublishAsync), instead of `js.publish`, which is a
 *   request per event (a promise, a timer and an error object for its stack each time). An error
 *   ack, a no-responders status or no ack within AUDIT_ACK_TIMEOUT_MS counts as a failure;
 * - the event is not re-validated against its schema here: the contract test
 *   (test/contracts/tokens.spec.ts) decodes what the broker publishes with it.
 * Keep these properties when moving to another client version.
 */
@Injectable()
export class AuditPublisher {
  private queued: Issuance[] = [];
  /** The W3C context each queued issuance happened in (the acquire request's span), same index. */
  private queuedTraces: TraceContext[] = [];
  /** Ack number → when it was published (epoch ms), oldest first. */
  private readonly awaiting = new Map<number, number>();
  private sent = 0;
  private readonly ackPrefix: string;
  private readonly acks: Subscription;
  private readonly sweep: NodeJS.Timeout;
  private waiters: Array<() => void> = [];
  // Cache hits repeat the same few tokens: hash each once.
  private readonly hashes = new Map<string, string>();

  /** `inboxPrefix`: the connection's (`_INBOX.<user>` in production, where that is all the broker may subscribe to). */
  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    @Inject(AUDIT_INBOX_PREFIX) inboxPrefix: string,
    private readonly metrics: BrokerMetrics,
  ) {
    this.ackPrefix = `${createInbox(inboxPrefix)}.`;
    // An error here (e.g. a permissions violation) ends the subscription: unacked events then time out as failures.
    this.acks = nc.subscribe(`${this.ackPrefix}*`, {
      callback: (err, msg) => (err ? this.onFailure(err) : this.acked(msg)),
    });
    this.sweep = setInterval(() => this.expire(Date.now() - AUDIT_ACK_TIMEOUT_MS), 1000);
    this.sweep.unref();
  }

  /** Does not delay the reply; failures are counted, never thrown at the caller. */
  record(i: Issuance): void {
    this.queued.push(i);
    // Taken now: the publish runs later, outside the request. A shared empty object when untraced.
    this.queuedTraces.push(activeTraceContext());
    if (this.queued.length === 1) setImmediate(this.drain);
  }

  /** Publishes what is queued and waits for its acks (or their timeout): shutdown, tests. */
  async flush(): Promise<void> {
    this.drain();
    if (this.awaiting.size > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** flush(), then stops listening for acks. */
  async close(): Promise<void> {
    await this.flush();
    clearInterval(this.sweep);
    this.acks.unsubscribe();
  }

  private readonly drain = (): void => {
    const batch = this.queued;
    const traces = this.queuedTraces;
    this.queued = [];
    this.queuedTraces = [];
    const now = Date.now();
    for (let k = 0; k < batch.length; k++) {
      const issuance = batch[k];
      const trace = traces[k];
      if (issuance && trace) this.publish(issuance, trace, now);
    }
  };

  private publish(i: Issuance, trace: TraceContext, now: number): void {
    const eventId = randomUUID();
    const event: EventOf<typeof TokensIssued> = {
      eventId,
      caller: i.caller,
      registration: i.registration,
      scope: i.scope,
      tokenIdHash: this.hashOf(i.accessToken),
      expiresOn: i.expiresOn,
      cache: i.cache,
      occurredAt: new Date(now).toISOString(),
    };
    const n = ++this.sent;
    this.awaiting.set(n, now);
    try {
      // Nats-Msg-Id as js.publish's msgID sets it: JetStream drops a duplicate of the same event.
      this.nc.publish(TokensIssued.subject, enc.encode(JSON.stringify(event)), {
        reply: `${this.ackPrefix}${n}`,
        headers: contractHeaders(TokensIssued, { 'Nats-Msg-Id': eventId }, trace),
      });
    } catch (e) {
      this.awaiting.delete(n);
      this.onFailure(e);
      this.settled();
    }
  }

  private acked(msg: Msg): void {
    // Unknown (already timed out and counted): ignore.
    if (!this.awaiting.delete(Number(msg.subject.slice(this.ackPrefix.length)))) return;
    if (!isPubAck(msg.data)) this.onFailure(new Error('JetStream did not store the audit event'));
    this.settled();
  }

  private expire(sentBefore: number): void {
    for (const [n, at] of this.awaiting) {
      if (at > sentBefore) break;
      this.awaiting.delete(n);
      this.onFailure(new Error('no JetStream ack for the audit event'));
    }
    this.settled();
  }

  private settled(): void {
    if (this.awaiting.size > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Counted (token_broker_audit_publish_failures_total), never thrown at a caller. */
  private onFailure(_e: unknown): void {
    this.metrics.auditFailures.inc();
  }

  private hashOf(token: string): string {
    let h = this.hashes.get(token);
    if (h === undefined) {
      if (this.hashes.size >= 256) this.hashes.clear();
      h = tokenIdHash(token);
      this.hashes.set(token, h);
    }
    return h;
  }
}

/** `{"stream":"TOKENS","seq":n}` (maybe `"duplicate":true`); an error ack or a no-responders status (empty body) is not. */
function isPubAck(data: Uint8Array): boolean {
  if (data.length === 0) return false;
  try {
    const ack = JSON.parse(dec.decode(data)) as { seq?: unknown; error?: unknown };
    return typeof ack.seq === 'number' && ack.error === undefined;
  } catch {
    return false;
  }
}
