import { URN } from './schemas';

/** A compact attribute definition (RFC 7643 §7) from which /Schemas and the PATCH engine both derive. */
export interface AttrDef {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime' | 'binary' | 'integer';
  multi?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  subs?: AttrDef[];
  /** RFC 7643 §7 canonicalValues (e.g. the `type` of emails) and referenceTypes of a reference. */
  canonicalValues?: string[];
  referenceTypes?: string[];
}

const s = (name: string, o: Partial<AttrDef> = {}): AttrDef => ({ name, type: 'string', ...o });
const b = (name: string): AttrDef => ({ name, type: 'boolean' });
// RFC 7643 §8.7.1 canonical `type` values of the multi-valued attributes.
const TYPES = new Map<string, string[]>([
  ['emails', ['work', 'home', 'other']],
  ['phoneNumbers', ['work', 'home', 'mobile', 'fax', 'pager', 'other']],
  ['ims', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']],
  ['photos', ['photo', 'thumbnail']],
  ['addresses', ['work', 'home', 'other']],
]);
const withTypes = (d: AttrDef): AttrDef => {
  const values = TYPES.get(d.name);
  return values
    ? {
        ...d,
        subs: d.subs?.map((x) => (x.name === 'type' ? { ...x, canonicalValues: values } : x)),
      }
    : d;
};
const multiValued = (
  name: string,
  subs: AttrDef[] = [s('value'), s('display'), s('type'), b('primary')],
): AttrDef =>
  withTypes({
    name,
    type: 'complex',
    multi: true,
    subs,
  });

export const USER_ATTRS: AttrDef[] = [
  s('userName', { required: true, uniqueness: 'server' }),
  {
    name: 'name',
    type: 'complex',
    subs: [
      'formatted',
      'familyName',
      'givenName',
      'middleName',
      'honorificPrefix',
      'honorificSuffix',
    ].map((n) => s(n)),
  },
  s('displayName'),
  s('nickName'),
  s('profileUrl', { type: 'reference' }),
  s('title'),
  s('userType'),
  s('preferredLanguage'),
  s('locale'),
  s('timezone'),
  b('active'),
  s('password', { mutability: 'writeOnly', returned: 'never' }),
  multiValued('emails'),
  multiValued('phoneNumbers'),
  multiValued('ims'),
  multiValued('photos'),
  multiValued('addresses', [
    ...['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type'].map(
      (n) => s(n),
    ),
    b('primary'),
  ]),
  {
    ...multiValued('groups', [
      s('value', { mutability: 'readOnly' }),
      s('$ref', { type: 'reference', mutability: 'readOnly', referenceTypes: ['User', 'Group'] }),
      s('display', { mutability: 'readOnly' }),
      s('type', { mutability: 'readOnly' }),
    ]),
    mutability: 'readOnly',
  },
  multiValued('entitlements'),
  multiValued('roles'),
  multiValued('x509Certificates'),
];

export const ENTERPRISE_ATTRS: AttrDef[] = [
  s('employeeNumber'),
  s('costCenter'),
  s('organization'),
  s('division'),
  s('department'),
  {
    name: 'manager',
    type: 'complex',
    subs: [
      s('value'),
      s('$ref', { type: 'reference', referenceTypes: ['User'] }),
      s('displayName', { mutability: 'readOnly' }),
    ],
  },
];

export const GROUP_ATTRS: AttrDef[] = [
  s('displayName', { required: true }),
  multiValued('members', [
    s('value', { mutability: 'immutable' }),
    s('$ref', { type: 'reference', mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
    s('display', { mutability: 'readOnly' }),
    s('type', { mutability: 'immutable' }),
  ]),
];

/** Lookup tables for one resource type: core attributes plus each extension's. */
export interface ResourceSchema {
  core: string;
  extensions: string[];
  byUri: Map<string, Map<string, AttrDef>>;
}

const index = (defs: AttrDef[]): Map<string, AttrDef> =>
  new Map(defs.map((d) => [d.name.toLowerCase(), d]));

export const USER_SCHEMA: ResourceSchema = {
  core: URN.user,
  extensions: [URN.enterprise],
  byUri: new Map([
    [URN.user.toLowerCase(), index(USER_ATTRS)],
    [URN.enterprise.toLowerCase(), index(ENTERPRISE_ATTRS)],
  ]),
};

export const GROUP_SCHEMA: ResourceSchema = {
  core: URN.group,
  extensions: [],
  byUri: new Map([[URN.group.toLowerCase(), index(GROUP_ATTRS)]]),
};

export const subDef = (d: AttrDef | undefined, sub: string): AttrDef | undefined =>
  d?.subs?.find((x) => x.name.toLowerCase() === sub.toLowerCase());
