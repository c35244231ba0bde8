import type { z } from 'zod';

/** An event published to JetStream: at-least-once, deduplicated by message id. */
export interface EventContract<S extends z.ZodType = z.ZodType> {
  readonly kind: 'event';
  /** Stable name, e.g. `policy.beneficiaries.changed`. */
  readonly name: string;
  readonly version: number;
  /** NATS subject on the wire: `${name}.v${version}`. */
  readonly subject: string;
  /** JetStream stream that captures the subject. */
  readonly stream: StreamName;
  readonly schema: S;
  readonly description: string;
}

/** A core NATS request/reply exchange. */
export interface RequestContract<Q extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly kind: 'request';
  readonly name: string;
  readonly version: number;
  readonly subject: string;
  readonly request: Q;
  readonly reply: R;
  readonly description: string;
}

export type Contract = EventContract | RequestContract;
export type EventOf<C extends EventContract> = z.infer<C['schema']>;
export type RequestOf<C extends RequestContract> = z.infer<C['request']>;
export type ReplyOf<C extends RequestContract> = z.infer<C['reply']>;

export const STREAMS = {
  POLICY: { name: 'POLICY', subjects: ['policy.>'] },
  SCIM: { name: 'SCIM', subjects: ['scim.>'] },
  TOKENS: { name: 'TOKENS', subjects: ['tokens.issued.>'] },
} as const;
export type StreamName = keyof typeof STREAMS;

export function defineEvent<S extends z.ZodType>(d: {
  name: string;
  version: number;
  stream: StreamName;
  schema: S;
  description: string;
}): EventContract<S> {
  return { kind: 'event', subject: `${d.name}.v${d.version}`, ...d };
}

export function defineRequest<Q extends z.ZodType, R extends z.ZodType>(d: {
  name: string;
  version: number;
  request: Q;
  reply: R;
  description: string;
}): RequestContract<Q, R> {
  return { kind: 'request', subject: `${d.name}.v${d.version}`, ...d };
}
