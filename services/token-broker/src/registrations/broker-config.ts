import { ConfigError, firstDuplicateKey } from '@idp/service-kit';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A NATS subject token: no dots, wildcards or whitespace (the caller name ends a subject). */
const subjectToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ or - (a single NATS subject token)');
const defaultScope = z
  .string()
  .min(1)
  .max(300)
  .regex(/\/\.default$/, 'must be a resource `.default` scope');

/** An Entra application (client) id. */
const guid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID');
/** A tenant: its id, or a domain name of it (contoso.onmicrosoft.com); never common/organizations. */
const tenant = z
  .string()
  .regex(
    /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/i,
    'must be a tenant id (GUID) or one of its domain names',
  );

// Strict objects: a misspelt member (`assertionAlgoritm`) is refused, not silently defaulted.
export const Registration = z.strictObject({
  /** Name callers use in `tokens.acquire`. */
  name: subjectToken,
  /** Tenant that issues the token (another tenant than the app's home is the cross-tenant pattern). */
  tenantId: tenant,
  clientId: guid,
  /** Key Vault certificate whose key signs the assertion (the key never leaves the vault). */
  certificateName: z.string().regex(/^[0-9A-Za-z-]{1,127}$/, 'must be a Key Vault object name'),
  /** `PS256` (x5t#S256 header, Microsoft's current form) or the legacy `RS256` with `x5t`. */
  assertionAlgorithm: z.enum(['PS256', 'RS256']).default('PS256'),
});
export type Registration = z.infer<typeof Registration>;

export const CallerGrant = z.strictObject({
  registration: subjectToken,
  scopes: z.array(defaultScope).min(1),
});
export type CallerGrant = z.infer<typeof CallerGrant>;

export const BrokerConfigDoc = z
  .strictObject({
    registrations: z.array(Registration).min(1),
    /** NATS user name → what it may ask for. Everyone else is refused. */
    callers: z.record(subjectToken, z.array(CallerGrant)),
  })
  .superRefine((d, ctx) => {
    const names = new Set<string>();
    d.registrations.forEach((r, i) => {
      if (names.has(r.name))
        ctx.addIssue({
          code: 'custom',
          path: ['registrations', i, 'name'],
          message: `duplicate registration ${r.name}`,
        });
      names.add(r.name);
    });
    for (const [caller, grants] of Object.entries(d.callers)) {
      grants.forEach((g, i) => {
        if (!names.has(g.registration))
          ctx.addIssue({
            code: 'custom',
            path: ['callers', caller, i, 'registration'],
            message: `unknown registration ${g.registration}`,
          });
      });
    }
  });
export type BrokerConfigDoc = z.infer<typeof BrokerConfigDoc>;

/** Reads the registrations/policy document from TOKEN_BROKER_CONFIG (JSON) or TOKEN_BROKER_CONFIG_FILE. */
export function loadBrokerConfigDoc(c: {
  TOKEN_BROKER_CONFIG?: string;
  TOKEN_BROKER_CONFIG_FILE?: string;
}): BrokerConfigDoc {
  const variable = c.TOKEN_BROKER_CONFIG ? 'TOKEN_BROKER_CONFIG' : 'TOKEN_BROKER_CONFIG_FILE';
  let raw: string;
  try {
    raw = c.TOKEN_BROKER_CONFIG ?? readFileSync(c.TOKEN_BROKER_CONFIG_FILE ?? '', 'utf8');
  } catch (e) {
    throw new ConfigError([
      `${variable}: cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError([`${variable}: is not valid JSON`]);
  }
  // JSON.parse keeps the last of a repeated name: a caller listed twice would lose its first grants.
  const repeated = firstDuplicateKey(raw);
  if (repeated !== undefined)
    throw new ConfigError([
      `${variable}: member ${JSON.stringify(repeated)} given twice in one object`,
    ]);
  const r = BrokerConfigDoc.safeParse(json);
  if (!r.success)
    throw new ConfigError(
      r.error.issues.map((i) => `${variable}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  return r.data;
}
