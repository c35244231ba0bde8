import { URN } from './schemas';

/**
 * A compact attribute definition (RFC 7643 §7) from which /Schemas, the filter, sort and projection
 * resolvers and the PATCH engine all derive. Descriptions are RFC 7643 §8.7's (shortened where the
 * RFC repeats itself), so /Schemas documents every attribute a client can send or filter on.
 */
export interface AttrDef {
  name: string;
  type:
    'string' | 'boolean' | 'complex' | 'reference' | 'dateTime' | 'binary' | 'integer' | 'decimal';
  description: string;
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

type Options = Partial<Omit<AttrDef, 'name' | 'description'>>;
const s = (name: string, description: string, o: Options = {}): AttrDef => ({
  name,
  type: 'string',
  description,
  ...o,
});
const b = (name: string, description: string): AttrDef => ({ name, type: 'boolean', description });
const ref = (name: string, description: string, referenceTypes: string[], o: Options = {}) =>
  s(name, description, { type: 'reference', referenceTypes, ...o });

const DISPLAY = 'A human-readable name, primarily used for display purposes. READ-ONLY.';
const primary = (what: string): AttrDef =>
  b(
    'primary',
    `A Boolean value indicating the 'primary' or preferred attribute value for this attribute${what}. The primary attribute value 'true' MUST appear no more than once.`,
  );
const type = (example: string, canonicalValues?: string[]): AttrDef =>
  s('type', `A label indicating the attribute's function${example}.`, {
    ...(canonicalValues ? { canonicalValues } : {}),
  });

/** value / display / type / primary, the shape of RFC 7643's multi-valued attributes. */
const multiValued = (name: string, description: string, subs: AttrDef[]): AttrDef => ({
  name,
  type: 'complex',
  multi: true,
  description,
  subs,
});

const HONORIFIC = "given the full name 'Ms. Barbara J Jensen, III'";

export const USER_ATTRS: AttrDef[] = [
  s(
    'userName',
    "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.",
    { required: true, uniqueness: 'server' },
  ),
  {
    name: 'name',
    type: 'complex',
    description:
      "The components of the user's real name. Providers MAY return just the full name as a single string in the formatted sub-attribute, or they MAY return just the individual component attributes using the other sub-attributes, or they MAY return both. If both variants are returned, they SHOULD be describing the same name, with the formatted name indicating how the component attributes should be combined.",
    subs: [
      s(
        'formatted',
        "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III').",
      ),
      s(
        'familyName',
        `The family name of the User, or last name in most Western languages (e.g., 'Jensen' ${HONORIFIC}).`,
      ),
      s(
        'givenName',
        `The given name of the User, or first name in most Western languages (e.g., 'Barbara' ${HONORIFIC}).`,
      ),
      s('middleName', `The middle name(s) of the User (e.g., 'Jane' ${HONORIFIC}).`),
      s(
        'honorificPrefix',
        `The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' ${HONORIFIC}).`,
      ),
      s(
        'honorificSuffix',
        `The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' ${HONORIFIC}).`,
      ),
    ],
  },
  s(
    'displayName',
    'The name of the User, suitable for display to end-users. The name SHOULD be the full name of the User being described, if known.',
  ),
  s(
    'nickName',
    "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'. This attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge').",
  ),
  ref(
    'profileUrl',
    "A fully qualified URL pointing to a page representing the User's online profile.",
    ['external'],
  ),
  s('title', 'The user\'s title, such as "Vice President."'),
  s(
    'userType',
    "Used to identify the relationship between the organization and the user. Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used.",
  ),
  s(
    'preferredLanguage',
    "Indicates the User's preferred written or spoken language. Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US.",
  ),
  s(
    'locale',
    "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations.",
  ),
  s(
    'timezone',
    "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'.",
  ),
  b('active', "A Boolean value indicating the User's administrative status."),
  s(
    'password',
    "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.",
    { mutability: 'writeOnly', returned: 'never' },
  ),
  multiValued(
    'emails',
    "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
    [
      s(
        'value',
        "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'.",
      ),
      s('display', DISPLAY),
      type(", e.g., 'work' or 'home'", ['work', 'home', 'other']),
      primary(', e.g., the preferred mailing address or primary email address'),
    ],
  ),
  multiValued(
    'phoneNumbers',
    "Phone numbers for the User. The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
    [
      s('value', 'Phone number of the User.'),
      s('display', DISPLAY),
      type(", e.g., 'work', 'home', 'mobile'", ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
      primary(', e.g., the preferred phone number or primary phone number'),
    ],
  ),
  multiValued('ims', 'Instant messaging addresses for the User.', [
    s('value', 'Instant messaging address for the User.'),
    s('display', DISPLAY),
    type(", e.g., 'aim', 'gtalk', 'xmpp'", [
      'aim',
      'gtalk',
      'icq',
      'xmpp',
      'msn',
      'skype',
      'qq',
      'yahoo',
    ]),
    primary(', e.g., the preferred messenger or primary messenger'),
  ]),
  multiValued('photos', 'URLs of photos of the User.', [
    ref('value', 'URL of a photo of the User.', ['external']),
    s('display', DISPLAY),
    type(", i.e., 'photo' or 'thumbnail'", ['photo', 'thumbnail']),
    primary(', e.g., the preferred photo or thumbnail'),
  ]),
  multiValued(
    'addresses',
    "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'.",
    [
      s(
        'formatted',
        'The full mailing address, formatted for display or use with a mailing label. This attribute MAY contain newlines.',
      ),
      s(
        'streetAddress',
        'The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information. This attribute MAY contain newlines.',
      ),
      s('locality', 'The city or locality component.'),
      s('region', 'The state or region component.'),
      s('postalCode', 'The zip code or postal code component.'),
      s('country', 'The country name component.'),
      type(", e.g., 'work' or 'home'", ['work', 'home', 'other']),
      primary(', e.g., the preferred mailing address'),
    ],
  ),
  {
    ...multiValued(
      'groups',
      'A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.',
      [
        // Resource ids, compared exactly like `id` (RFC 7643 §8.7 says caseExact false).
        s('value', "The identifier of the User's group.", {
          mutability: 'readOnly',
          caseExact: true,
        }),
        ref(
          '$ref',
          "The URI of the corresponding 'Group' resource to which the user belongs.",
          ['Group'],
          { mutability: 'readOnly' },
        ),
        s('display', DISPLAY, { mutability: 'readOnly' }),
        s('type', "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.", {
          mutability: 'readOnly',
          canonicalValues: ['direct', 'indirect'],
        }),
      ],
    ),
    mutability: 'readOnly',
  },
  multiValued(
    'entitlements',
    'A list of entitlements for the User that represent a thing the User has.',
    [s('value', 'The value of an entitlement.'), s('display', DISPLAY), type(''), primary('')],
  ),
  multiValued(
    'roles',
    "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
    [s('value', 'The value of a role.'), s('display', DISPLAY), type(''), primary('')],
  ),
  multiValued('x509Certificates', 'A list of certificates issued to the User.', [
    s('value', 'The value of an X.509 certificate (stored and compared as the string sent).'),
    s('display', DISPLAY),
    type(''),
    primary(''),
  ]),
];

export const ENTERPRISE_ATTRS: AttrDef[] = [
  s(
    'employeeNumber',
    'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.',
  ),
  s('costCenter', 'Identifies the name of a cost center.'),
  s('organization', 'Identifies the name of an organization.'),
  s('division', 'Identifies the name of a division.'),
  s('department', 'Identifies the name of a department.'),
  {
    name: 'manager',
    type: 'complex',
    description:
      "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
    subs: [
      s('value', "The id of the SCIM resource representing the User's manager."),
      ref('$ref', "The URI of the SCIM resource representing the User's manager.", ['User']),
      s('displayName', "The displayName of the User's manager. OPTIONAL and READ-ONLY.", {
        mutability: 'readOnly',
      }),
    ],
  },
];

export const GROUP_ATTRS: AttrDef[] = [
  s('displayName', 'A human-readable name for the Group. REQUIRED.', { required: true }),
  multiValued('members', 'A list of members of the Group.', [
    // A user's id, compared exactly like `id` (RFC 7643 §8.7.1 says caseExact false).
    s('value', 'Identifier of the member of this Group.', {
      mutability: 'immutable',
      caseExact: true,
    }),
    ref(
      '$ref',
      'The URI corresponding to a SCIM resource that is a member of this Group.',
      // Members are users only (no nested groups): RFC 7643 §8.7.1 lists 'Group' too.
      ['User'],
      { mutability: 'immutable' },
    ),
    s('display', DISPLAY, { mutability: 'readOnly' }),
    s('type', "A label indicating the type of resource; members are users ('User').", {
      mutability: 'immutable',
      canonicalValues: ['User'],
    }),
  ]),
];

/**
 * RFC 7643 §3.1's common attributes, part of every resource. §3.1 lets a schema list them "for
 * backward compatibility"; /Schemas lists `id` and `externalId` (User and Group), not `meta`
 * (src/discovery/schema-documents.ts says why). Not part of the lookup tables below: the
 * resolvers treat them specially.
 */
export const COMMON_ATTRS: AttrDef[] = [
  s(
    'id',
    'A unique identifier for a SCIM resource as defined by the service provider. REQUIRED (assigned by the service provider) and READ-ONLY.',
    { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' },
  ),
  s(
    'externalId',
    'A String that is an identifier for the resource as defined by the provisioning client.',
    { caseExact: true },
  ),
  {
    name: 'meta',
    type: 'complex',
    description: 'A complex attribute containing resource metadata. READ-ONLY.',
    mutability: 'readOnly',
    subs: [
      s('resourceType', 'The name of the resource type of the resource.', {
        caseExact: true,
        mutability: 'readOnly',
      }),
      s('created', 'The "DateTime" that the resource was added to the service provider.', {
        type: 'dateTime',
        mutability: 'readOnly',
      }),
      s(
        'lastModified',
        'The most recent DateTime that the details of this resource were updated at the service provider.',
        { type: 'dateTime', mutability: 'readOnly' },
      ),
      ref('location', 'The URI of the resource being returned.', ['uri'], {
        caseExact: true,
        mutability: 'readOnly',
      }),
      s('version', 'The version of the resource being returned (the ETag value).', {
        caseExact: true,
        mutability: 'readOnly',
      }),
    ],
  },
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
