// Request bodies in Key Vault's wire shape, validated before use. Unknown fields are ignored
// (the SDKs send more than this vault acts on, e.g. SANs or lifetime actions).
import { z } from 'zod';
import { SIGN_ALGORITHMS } from './crypto';
import { badParameter } from './errors';

const base64url = z.string().regex(/^[A-Za-z0-9_-]*={0,2}$/, 'must be base64url');

export const signBody = z.object({ alg: z.enum(SIGN_ALGORITHMS), value: base64url });

export const policyBody = z.object({
  key_props: z
    .object({
      exportable: z.boolean().optional(),
      kty: z.literal('RSA').optional(),
      key_size: z.number().int().optional(),
      reuse_key: z.boolean().optional(),
    })
    .optional(),
  x509_props: z
    .object({
      subject: z.string().min(1).max(1024).optional(),
      key_usage: z.array(z.string()).optional(),
      validity_months: z.number().int().min(1).max(1200).optional(),
    })
    .optional(),
  issuer: z.object({ name: z.string().optional() }).optional(),
  attributes: z.object({ enabled: z.boolean().optional() }).optional(),
});
export type PolicyBody = z.infer<typeof policyBody>;

export const createCertificateBody = z.object({
  policy: policyBody.optional(),
  attributes: z.object({ enabled: z.boolean().optional() }).optional(),
});

/** Parses a body or throws Key Vault's BadParameter naming the first problem. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badParameter('The request body is missing or is not a JSON object.');
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    throw badParameter(`Invalid request body: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
