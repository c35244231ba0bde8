// Certificate policies: Key Vault's defaults, merging a request's partial
// policy over them, and the policy recorded for an imported certificate.
import { KEY_USAGES } from './certificates';
import { RSA_KEY_SIZES, type Curve, type KeyType } from './crypto';
import { badParameter } from './errors';
import type { PolicyBody } from './schemas';
import { nowSeconds, type PolicyState } from './store';

const DEFAULT_EKUS = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'];

export interface PolicyMergeOptions {
  /** Issuer name when neither the request nor an existing policy has one. */
  defaultIssuer: 'Self' | 'Unknown';
  /** Subject when neither the request nor an existing policy has one (imports take the certificate's). */
  defaultSubject?: string;
}

/** The effective policy: request fields over the existing policy over Key Vault's defaults. */
export function mergePolicy(
  body: PolicyBody | undefined,
  existing: PolicyState | undefined,
  opts: PolicyMergeOptions,
): PolicyState {
  const now = nowSeconds();
  const kty: KeyType = body?.key_props?.kty ?? existing?.key_props.kty ?? 'RSA';
  const sameType = existing?.key_props.kty === kty;
  const keyProps: PolicyState['key_props'] = {
    exportable: body?.key_props?.exportable ?? existing?.key_props.exportable ?? true,
    kty,
    reuse_key: body?.key_props?.reuse_key ?? existing?.key_props.reuse_key ?? false,
  };
  if (kty === 'RSA') {
    const size =
      body?.key_props?.key_size ?? (sameType ? existing?.key_props.key_size : undefined) ?? 2048;
    if (!(RSA_KEY_SIZES as readonly number[]).includes(size))
      throw badParameter(`Invalid key size ${size}. Supported RSA key sizes: 2048, 3072, 4096.`);
    keyProps.key_size = size;
  } else {
    const crv: Curve =
      body?.key_props?.crv ?? (sameType ? existing?.key_props.crv : undefined) ?? 'P-256';
    keyProps.crv = crv;
  }

  const subject = body?.x509_props?.subject ?? existing?.x509_props.subject ?? opts.defaultSubject;
  if (!subject) throw badParameter('Property policy.x509_props.subject is required.');
  const keyUsage =
    body?.x509_props?.key_usage ??
    (sameType ? existing?.x509_props.key_usage : undefined) ??
    (kty === 'RSA' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  const unknown = keyUsage.find((u) => !KEY_USAGES.includes(u));
  if (unknown) throw badParameter(`Invalid key usage '${unknown}'.`);
  const x509Props: PolicyState['x509_props'] = {
    subject,
    ekus: body?.x509_props?.ekus ?? existing?.x509_props.ekus ?? DEFAULT_EKUS,
    key_usage: keyUsage,
    validity_months:
      body?.x509_props?.validity_months ?? existing?.x509_props.validity_months ?? 12,
  };
  const sans = body?.x509_props?.sans ?? existing?.x509_props.sans;
  if (sans) x509Props.sans = sans;

  const issuerName = body?.issuer?.name ?? existing?.issuer.name ?? opts.defaultIssuer;
  const issuer: PolicyState['issuer'] = { name: issuerName };
  if (body?.issuer?.cty) issuer.cty = body.issuer.cty;
  if (body?.issuer?.cert_transparency !== undefined)
    issuer.cert_transparency = body.issuer.cert_transparency;

  const lifetimeActions = body?.lifetime_actions?.flatMap((a) =>
    a.trigger && a.action ? [{ trigger: a.trigger, action: a.action }] : [],
  ) ??
    existing?.lifetime_actions ?? [
      { trigger: { lifetime_percentage: 80 }, action: { action_type: 'AutoRenew' } },
    ];

  return {
    key_props: keyProps,
    secret_props: {
      contentType:
        body?.secret_props?.contentType ??
        existing?.secret_props.contentType ??
        'application/x-pkcs12',
    },
    x509_props: x509Props,
    issuer,
    lifetime_actions: lifetimeActions,
    attributes: {
      enabled: body?.attributes?.enabled ?? existing?.attributes.enabled ?? true,
      created: existing?.attributes.created ?? now,
      updated: now,
    },
  };
}

/** Only self-signed issuance can complete without a CA. */
export function assertSelfIssued(policy: PolicyState): void {
  if (policy.issuer.name.toLowerCase() !== 'self') {
    throw badParameter(
      `Issuer '${policy.issuer.name}' is not supported by this vault: only 'Self' (self-signed) certificates can be created; import certificates issued elsewhere.`,
    );
  }
}

/** Months between two Unix times, at least 1 (for an imported certificate's policy). */
export const monthsBetween = (nbf: number, exp: number): number =>
  Math.max(1, Math.round((exp - nbf) / (86400 * 30.44)));
