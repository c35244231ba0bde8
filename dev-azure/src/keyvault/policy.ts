// Certificate policies: Key Vault's defaults under a create request's partial policy (and,
// for a new version, the existing one). Fields this vault does not act on (SANs, lifetime
// actions, secret content type, ...) are not kept.
import { KEY_USAGES, subjectName } from './certificates';
import { RSA_KEY_SIZES } from './crypto';
import { shown } from '../util/text';
import { badParameter } from './errors';
import type { PolicyBody } from './schemas';
import { nowSeconds, type PolicyState } from './store';

// Server and client authentication, Key Vault's default EKUs.
const EKUS = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'];

/** The effective policy: request fields over the existing policy over Key Vault's defaults. */
export function mergePolicy(
  body: PolicyBody | undefined,
  existing: PolicyState | undefined,
): PolicyState {
  const now = nowSeconds();
  const size = body?.key_props?.key_size ?? existing?.key_props.key_size ?? 2048;
  if (!(RSA_KEY_SIZES as readonly number[]).includes(size))
    throw badParameter(`Invalid key size ${size}. Supported RSA key sizes: 2048, 3072, 4096.`);
  const subject = body?.x509_props?.subject ?? existing?.x509_props.subject;
  if (!subject) throw badParameter('Property policy.x509_props.subject is required.');
  // Refused before a key is generated.
  subjectName(subject);
  const keyUsage = body?.x509_props?.key_usage ??
    existing?.x509_props.key_usage ?? ['digitalSignature', 'keyEncipherment'];
  const unknown = keyUsage.find((u) => !KEY_USAGES.includes(u));
  if (unknown !== undefined) throw badParameter(`Invalid key usage '${shown(unknown, 64)}'.`);
  const issuer = body?.issuer?.name ?? existing?.issuer.name ?? 'Self';
  if (issuer.toLowerCase() !== 'self') {
    throw badParameter(
      `Issuer '${shown(issuer, 128)}' is not supported by this vault: only 'Self' (self-signed) certificates can be created.`,
    );
  }
  return {
    key_props: {
      exportable: body?.key_props?.exportable ?? existing?.key_props.exportable ?? true,
      kty: 'RSA',
      key_size: size,
      reuse_key: body?.key_props?.reuse_key ?? existing?.key_props.reuse_key ?? false,
    },
    x509_props: {
      subject,
      ekus: EKUS,
      key_usage: keyUsage,
      validity_months:
        body?.x509_props?.validity_months ?? existing?.x509_props.validity_months ?? 12,
    },
    issuer: { name: issuer },
    attributes: {
      enabled: body?.attributes?.enabled ?? existing?.attributes.enabled ?? true,
      created: existing?.attributes.created ?? now,
      updated: now,
    },
  };
}
