import type { JetStreamClient } from '@nats-io/jetstream';
import {
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type RequestOptions,
} from '@nats-io/transport-node';
import type { z } from 'zod';
import type {
  Contract,
  EventContract,
  EventOf,
  ReplyOf,
  RequestContract,
  RequestOf,
} from './contract';
import { activeTraceContext, setTraceHeaders, type TraceContext } from './trace-context';

export const CONTRACT_HEADER = 'Idp-Contract';

/** Thrown when a message on the wire does not match its contract. */
export class ContractViolation extends Error {
  constructor(
    readonly contract: string,
    readonly issues: string[],
  ) {
    super(`message does not match contract ${contract}: ${issues.join('; ')}`);
    this.name = 'ContractViolation';
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function check<S extends z.ZodType>(contract: Contract, schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new ContractViolation(
      `${contract.name}.v${contract.version}`,
      r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return r.data;
}

/** Validates and serialises a payload for a contract (JSON, UTF-8). */
export function encode<S extends z.ZodType>(
  contract: Contract,
  schema: S,
  value: z.input<S> | z.infer<S>,
): Uint8Array {
  return enc.encode(JSON.stringify(check(contract, schema, value)));
}

/** Parses and validates bytes received for a contract. */
export function decode<S extends z.ZodType>(
  contract: Contract,
  schema: S,
  data: Uint8Array,
): z.infer<S> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(dec.decode(data));
  } catch {
    throw new ContractViolation(`${contract.name}.v${contract.version}`, ['payload is not JSON']);
  }
  return check(contract, schema, parsed);
}

/**
 * Headers of a message for a contract: its name, `extra` (e.g. Nats-Msg-Id) and, when given,
 * the W3C trace context (the only place trace headers are written).
 */
export function contractHeaders(
  contract: Contract,
  extra: Record<string, string> = {},
  trace?: TraceContext,
): MsgHdrs {
  const h = natsHeaders();
  h.set(CONTRACT_HEADER, `${contract.name}.v${contract.version}`);
  for (const [k, v] of Object.entries(extra)) h.set(k, v);
  if (trace) setTraceHeaders(h, trace);
  return h;
}

export const encodeEvent = <C extends EventContract>(c: C, e: EventOf<C>): Uint8Array =>
  encode<C['schema']>(c, c.schema, e);
export const decodeEvent = <C extends EventContract>(c: C, data: Uint8Array): EventOf<C> =>
  decode<C['schema']>(c, c.schema, data);

/**
 * Publishes an event to JetStream; `msgId` makes redelivery from an outbox idempotent. `trace`
 * (default: the active context) makes a consumer's span a child of the producer's.
 */
export async function publishEvent<C extends EventContract>(
  js: JetStreamClient,
  c: C,
  event: EventOf<C>,
  msgId: string,
  opts: { trace?: TraceContext; timeout?: number } = {},
): Promise<void> {
  const { trace = activeTraceContext(), timeout } = opts;
  await js.publish(c.subject, encodeEvent(c, event), {
    msgID: msgId,
    headers: contractHeaders(c, {}, trace),
    ...(timeout ? { timeout } : {}),
  });
}

/**
 * Sends a request and validates the reply against the contract; `subject` overrides the
 * contract's (per-caller subjects); `trace` (default: the active context) makes the responder's
 * span a child of the caller's.
 */
export async function request<C extends RequestContract>(
  nc: NatsConnection,
  c: C,
  body: RequestOf<C>,
  opts: Partial<Omit<RequestOptions, 'headers'>> & { subject?: string; trace?: TraceContext } = {},
): Promise<ReplyOf<C>> {
  const { subject = c.subject, trace = activeTraceContext(), ...rest } = opts;
  const msg = await nc.request(subject, encode<C['request']>(c, c.request, body), {
    timeout: 5000,
    ...rest,
    headers: contractHeaders(c, {}, trace),
  });
  return decode<C['reply']>(c, c.reply, msg.data);
}

/** Validates an incoming request; on violation returns the issues instead of throwing. */
export function parseRequest<C extends RequestContract>(
  c: C,
  msg: Msg,
): { ok: true; value: RequestOf<C> } | { ok: false; error: ContractViolation } {
  try {
    return { ok: true, value: decode<C['request']>(c, c.request, msg.data) };
  } catch (e) {
    if (e instanceof ContractViolation) return { ok: false, error: e };
    throw e;
  }
}

/** Validates and sends a reply. */
export function respond<C extends RequestContract>(c: C, msg: Msg, reply: ReplyOf<C>): boolean {
  return msg.respond(encode<C['reply']>(c, c.reply, reply), { headers: contractHeaders(c) });
}
