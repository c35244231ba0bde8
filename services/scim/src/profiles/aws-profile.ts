import { getCI } from '../scim/json-ci';
import { ScimError } from '../scim/scim-error';
import { isObject, URN, type JsonObject } from '../scim/schemas';

// IAM Identity Center's documented SCIM constraints, for directories with the `aws` profile
// (https://docs.aws.amazon.com/singlesignon/latest/developerguide/limitations.html).

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';

export const AWS_MAX_MEMBERSHIP_CHANGES = 100;

/** CreateUser / PutUser / the result of PatchUser. */
export function checkAwsUser(doc: JsonObject): void {
  const name = getCI(doc, 'name');
  const missing = [
    nonEmpty(getCI(doc, 'displayName')) ? undefined : 'displayName',
    isObject(name) && nonEmpty(getCI(name, 'givenName')) ? undefined : 'name.givenName',
    isObject(name) && nonEmpty(getCI(name, 'familyName')) ? undefined : 'name.familyName',
  ].filter(Boolean);
  if (missing.length)
    throw ScimError.invalidValue(`Required attributes are missing: ${missing.join(', ')}`);
  for (const m of ['emails', 'addresses', 'phoneNumbers']) {
    const v = getCI(doc, m);
    if (Array.isArray(v) && v.length > 1)
      throw ScimError.invalidValue(`Only one value is supported for ${m}`);
  }
}

/** Only displayName, members and externalId may be patched on a group. */
export function checkAwsGroupPatchAttr(attr: string): void {
  const a = attr.toLowerCase();
  if (a !== 'displayname' && a !== 'members' && a !== 'externalid')
    throw ScimError.invalidPath(
      `Only displayName, members and externalId can be patched (got ${attr})`,
    );
}

/** IAM Identity Center's generic ValidationException text, which it also sends for the membership cap. */
const AWS_UNPARSABLE = 'Request is unparsable, syntactically incorrect, or violates schema.';

/**
 * CreateGroup / PatchGroup: at most 100 membership changes (members added plus removed) per
 * request. IAM Identity Center answers more with its generic 400 (detail AWS_UNPARSABLE, no
 * scimType), which is what clients that batch by it (idp-scim-sync, authentik) recognise.
 */
export function checkAwsMembershipChanges(n: number): void {
  if (n > AWS_MAX_MEMBERSHIP_CHANGES) {
    const e = ScimError.tooMany(
      `At most ${AWS_MAX_MEMBERSHIP_CHANGES} membership changes are allowed in a single request`,
    );
    e.awsDetail = AWS_UNPARSABLE;
    throw e;
  }
}

export const AWS_SERVICE_PROVIDER_CONFIG = {
  schemas: [URN.serviceProviderConfig],
  documentationUri:
    'https://docs.aws.amazon.com/singlesignon/latest/userguide/manage-your-identity-source-idp.html',
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'Authentication scheme using the OAuth Bearer Token Standard',
      specUri: 'https://www.rfc-editor.org/info/rfc6750',
      documentationUri:
        'https://docs.aws.amazon.com/singlesignon/latest/userguide/provision-automatically.html',
      primary: true,
    },
  ],
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 1, maxPayloadSize: 1048576 },
  filter: { supported: true, maxResults: 50 },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
};

const AWS_PATCHABLE = new Set(
  [
    'userName',
    'active',
    'externalId',
    'displayName',
    'nickName',
    'profileUrl',
    'title',
    'userType',
    'preferredLanguage',
    'locale',
    'timezone',
    'name',
    'emails',
    'addresses',
    'phoneNumbers',
  ].map((a) => a.toLowerCase()),
);

/**
 * PatchUser: only the attributes AWS lists may change, `userName`/`active` at most once per request
 * and never removed. `targets` are the (lower-cased URI, attribute) pairs each operation touches.
 */
export function checkAwsUserPatch(targets: { op: string; uri: string; attr: string }[]): void {
  const seen = new Map<string, number>();
  for (const t of targets) {
    const a = t.attr.toLowerCase();
    if (t.uri === URN.enterprise.toLowerCase()) continue;
    if (!AWS_PATCHABLE.has(a)) throw ScimError.invalidPath(`${t.attr} cannot be patched`);
    if (a === 'username' || a === 'active') {
      if (t.op === 'remove') throw ScimError.mutability(`${t.attr} cannot be removed`);
      seen.set(a, (seen.get(a) ?? 0) + 1);
      if ((seen.get(a) ?? 0) > 1)
        throw ScimError.invalidValue(`Only one operation on ${t.attr} is allowed per request`);
    }
  }
}
