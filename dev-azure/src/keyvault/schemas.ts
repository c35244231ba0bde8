// Request bodies in Key Vault's wire shape, validated before use. Unknown
// fields are ignored (newer SDKs send more than this vault understands).
import { z } from 'zod';
import { SIGN_ALGORITHMS } from './crypto';
import { badParameter } from './errors';

const base64url = z.string().regex(/^[A-Za-z0-9_-]*={0,2}$/, 'must be base64url');
const unixSeconds = z.number().int().nonnegative();
const tags = z.record(z.string(), z.string()).optional();

export const signBody = z.object({ alg: z.enum(SIGN_ALGORITHMS), value: base64url });
export const verifyBody = z.object({
  alg: z.enum(SIGN_ALGORITHMS),
  digest: base64url,
  value: base64url,
});

const keyType = z.enum(['RSA', 'EC']);
const curve = z.literal('P-256');

export const createKeyBody = z.object({
  kty: keyType,
  key_size: z.number().int().optional(),
  crv: curve.optional(),
  key_ops: z.array(z.string()).optional(),
  attributes: z
    .object({
      enabled: z.boolean().optional(),
      nbf: unixSeconds.optional(),
      exp: unixSeconds.optional(),
      exportable: z.boolean().optional(),
    })
    .optional(),
  tags,
});

export const policyBody = z.object({
  key_props: z
    .object({
      exportable: z.boolean().optional(),
      kty: keyType.optional(),
      key_size: z.number().int().optional(),
      crv: curve.optional(),
      reuse_key: z.boolean().optional(),
    })
    .optional(),
  secret_props: z
    .object({ contentType: z.enum(['application/x-pkcs12', 'application/x-pem-file']).optional() })
    .optional(),
  x509_props: z
    .object({
      subject: z.string().min(1).max(1024).optional(),
      sans: z
        .object({
          dns_names: z.array(z.string()).optional(),
          emails: z.array(z.string()).optional(),
          upns: z.array(z.string()).optional(),
        })
        .optional(),
      ekus: z.array(z.string().regex(/^\d+(\.\d+)+$/, 'must be an OID')).optional(),
      key_usage: z.array(z.string()).optional(),
      validity_months: z.number().int().min(1).max(1200).optional(),
    })
    .optional(),
  issuer: z
    .object({
      name: z.string().optional(),
      cty: z.string().optional(),
      cert_transparency: z.boolean().optional(),
    })
    .optional(),
  lifetime_actions: z
    .array(
      z.object({
        trigger: z
          .object({
            lifetime_percentage: z.number().optional(),
            days_before_expiry: z.number().optional(),
          })
          .optional(),
        action: z.object({ action_type: z.string() }).optional(),
      }),
    )
    .optional(),
  attributes: z.object({ enabled: z.boolean().optional() }).optional(),
});
export type PolicyBody = z.infer<typeof policyBody>;

const certificateAttributes = z.object({ enabled: z.boolean().optional() }).optional();

export const createCertificateBody = z.object({
  policy: policyBody.optional(),
  attributes: certificateAttributes,
  tags,
});
export const importCertificateBody = z.object({
  value: z.string().min(1),
  pwd: z.string().optional(),
  policy: policyBody.optional(),
  attributes: certificateAttributes,
  tags,
});

/** Parses a body or throws Key Vault's BadParameter naming the first problem. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badParameter('The request body is missing or is not a JSON object.');
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : 'body';
    throw badParameter(`Invalid request body: ${where}: ${issue.message}`);
  }
  return result.data;
}
