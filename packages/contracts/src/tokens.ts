import { z } from 'zod';
import { defineEvent, defineRequest } from './contract';

export const TokenErrorCode = z.enum([
  'unauthorized',
  // Not sent by current brokers (an unknown registration is answered `unauthorized`, so names are
  // not discoverable); kept so a reply from an older broker still decodes.
  'unknown_registration',
  'upstream_unavailable',
  'upstream_rejected',
  'bad_request',
]);

export const TokensAcquire = defineRequest({
  name: 'tokens.acquire',
  version: 1,
  description:
    'Ask the token broker for an app-only Entra ID access token, on `tokens.acquire.v1.<caller>` (see tokensAcquireSubject). The caller is identified by its authenticated NATS user (only it may publish to that subject), never by a field it sends.',
  request: z.object({
    /** Client registration name configured in the broker. */
    registration: z.string().min(1).max(100),
    /** Resource `.default` scope, e.g. `api://policy-api/.default`. */
    scope: z.string().min(1).max(300),
  }),
  reply: z.discriminatedUnion('ok', [
    z.object({
      ok: z.literal(true),
      accessToken: z.string().min(1),
      tokenType: z.literal('Bearer'),
      /** Expiry, seconds since the epoch. */
      expiresOn: z.number().int().positive(),
    }),
    z.object({
      ok: z.literal(false),
      error: z.object({
        code: TokenErrorCode,
        message: z.string(),
        /** AADSTS code from Entra ID, when there is one. */
        aadsts: z.string().optional(),
      }),
    }),
  ]),
});

/**
 * The subject a caller sends `tokens.acquire` to: `tokens.acquire.v1.<its NATS user>`. nats-server
 * permissions let only that user publish there, so the subject itself proves who is asking.
 */
export const tokensAcquireSubject = (natsUser: string): string =>
  `${TokensAcquire.subject}.${natsUser}`;

export const TokensIssued = defineEvent({
  name: 'tokens.issued',
  version: 1,
  stream: 'TOKENS',
  description: 'Audit record of one token handed to a caller (never the token itself).',
  schema: z.object({
    eventId: z.uuid(),
    caller: z.string().min(1),
    registration: z.string().min(1),
    scope: z.string().min(1),
    /** SHA-256 (hex) of the token's uti/jti claim. */
    tokenIdHash: z.string().regex(/^[0-9a-f]{64}$/),
    expiresOn: z.number().int().positive(),
    cache: z.enum(['hit', 'miss']),
    occurredAt: z.iso.datetime(),
  }),
});
