// Microsoft Graph's /v1.0/me for users of external tenants: GET reads the
// signed-in user, PATCH changes displayName / givenName / surname (204, as
// Graph; null clears givenName or surname, which then read as null). Delegated tokens only (aud Graph, scp User.Read or User.ReadWrite);
// errors in Graph's shape: { error: { code, message, innerError } }.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GRAPH_APP_ID } from '../../config/graph';
import type { TenantConfig } from '../../config/schema';
import type { UserRecord } from '../../store/state-store';
import { newGuid, nowSeconds } from '../../util/encoding';
import { hasControlCharacter, shown } from '../../util/text';
import type { IdentityContext } from '../context';
import { issuerFor } from '../issuers';
import { claimAudiences, claimNumber, claimString, decodeJwt, verifyJwtSignature } from '../jwt';
import { mediaType } from '../form-params';

const WRITABLE = ['displayName', 'givenName', 'surname'] as const;
/** Properties a PATCH may clear with null (Graph's nullable strings); displayName is required. */
const NULLABLE: readonly (typeof WRITABLE)[number][] = ['givenName', 'surname'];
/** Graph's user property limits: displayName 256 characters, givenName and surname 64. */
const MAX_LENGTH: Record<(typeof WRITABLE)[number], number> = {
  displayName: 256,
  givenName: 64,
  surname: 64,
};
const READABLE = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const CLOCK_SKEW = 300;

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendGraphError(req: FastifyRequest, reply: FastifyReply, e: GraphError): FastifyReply {
  const requestId = newGuid();
  const clientRequestId =
    typeof req.headers['client-request-id'] === 'string'
      ? req.headers['client-request-id'].slice(0, 64)
      : requestId;
  if (e.status === 401) {
    void reply.header(
      'www-authenticate',
      `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
    );
  }
  return reply
    .code(e.status)
    .header('request-id', requestId)
    .header('client-request-id', clientRequestId)
    .header('cache-control', 'no-store')
    .send({
      error: {
        code: e.code,
        message: e.message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ''),
          'request-id': requestId,
          'client-request-id': clientRequestId,
        },
      },
    });
}

/** The user behind a delegated Graph token, and its scopes. */
function authenticate(
  ctx: IdentityContext,
  req: FastifyRequest,
): { tenant: TenantConfig; user: UserRecord; scopes: string[] } {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer ([A-Za-z0-9._-]+)$/i.exec(header);
  if (!match) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  const jwt = decodeJwt(match[1]);
  if (!jwt)
    throw new GraphError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed.');
  const tenant = ctx.directory.tenant(claimString(jwt.payload, 'tid') ?? '');
  const key =
    tenant && typeof jwt.header.kid === 'string'
      ? ctx.keys.publicKey(tenant.id, jwt.header.kid)
      : undefined;
  if (
    !tenant ||
    tenant.type !== 'external' ||
    !key ||
    !verifyJwtSignature(jwt, key) ||
    claimString(jwt.payload, 'iss') !== issuerFor(ctx.baseUrl(), tenant)
  ) {
    throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
  }
  if (!claimAudiences(jwt.payload).includes(GRAPH_APP_ID))
    throw new GraphError(
      401,
      'InvalidAuthenticationToken',
      'Access token validation failure. Invalid audience.',
    );
  const now = nowSeconds();
  if (
    (claimNumber(jwt.payload, 'exp') ?? 0) < now - CLOCK_SKEW ||
    (claimNumber(jwt.payload, 'nbf') ?? 0) > now + CLOCK_SKEW
  ) {
    throw new GraphError(
      401,
      'InvalidAuthenticationToken',
      'Lifetime validation failed, the token is expired.',
    );
  }
  const scp = claimString(jwt.payload, 'scp');
  if (scp === undefined)
    throw new GraphError(
      400,
      'BadRequest',
      '/me request is only valid with delegated authentication flow.',
    );
  const user = ctx.users.byOid(tenant.id, claimString(jwt.payload, 'oid') ?? '');
  if (!user)
    throw new GraphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${claimString(jwt.payload, 'oid') ?? ''}' does not exist or one of its queried reference-property objects are not present.`,
    );
  return { tenant, user, scopes: scp.split(' ') };
}

function view(tenant: TenantConfig, u: UserRecord): Record<string, unknown> {
  return {
    businessPhones: [],
    displayName: u.displayName,
    // A cleared (empty) name reads as null, as in Graph.
    givenName: u.givenName === '' ? null : u.givenName,
    jobTitle: null,
    mail: u.email,
    mobilePhone: u.phone ?? null,
    officeLocation: null,
    preferredLanguage: null,
    surname: u.surname === '' ? null : u.surname,
    userPrincipalName: `${u.oid}@${tenant.subdomain ?? tenant.name}.onmicrosoft.com`,
    id: u.oid,
  };
}

/**
 * The user as GET answers it: its context URL names the $select-ed properties, as Graph's does
 * (`$metadata#users(department,jobTitle)/$entity`, microsoftgraph/msgraph-sdk-dotnet#488).
 */
function selected(req: FastifyRequest, all: Record<string, unknown>): Record<string, unknown> {
  // Graph reads query option and property names case-insensitively (MS Learn, "Traverse the
  // graph": path resource names, query parameters and property names are not case-sensitive).
  const given = Object.entries(req.query as Record<string, unknown>)
    .filter(([name]) => name.toLowerCase() === '$select')
    .flatMap(([, value]) => (Array.isArray(value) ? (value as unknown[]) : [value]));
  if (given.length > 1)
    // OData allows each system query option once (microsoftgraph/msgraph-sdk-java#336).
    throw new GraphError(
      400,
      'BadRequest',
      "Query option '$select' was specified more than once, but it must be specified at most once.",
    );
  const context = (names?: string[]) =>
    `https://graph.microsoft.com/v1.0/$metadata#users${names ? `(${names.join(',')})` : ''}/$entity`;
  const raw = given[0];
  if (typeof raw !== 'string' || raw === '') return { '@odata.context': context(), ...all };
  const names: string[] = [];
  for (const asked of raw.split(',').map((s) => s.trim())) {
    if (asked === '') continue;
    const name = READABLE.find((r) => r.toLowerCase() === asked.toLowerCase());
    if (name === undefined)
      throw new GraphError(
        400,
        'Request_BadRequest',
        `Could not find a property named '${shown(asked, 64)}' on type 'microsoft.graph.user'.`,
      );
    if (!names.includes(name)) names.push(name);
  }
  // The properties under their own names, however the request spelt them.
  return {
    '@odata.context': context(names),
    ...Object.fromEntries(names.map((n) => [n, all[n]])),
  };
}

/** The properties a PATCH sets; '' for one it clears (null). */
function parsePatch(body: unknown): Partial<Record<(typeof WRITABLE)[number], string>> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new GraphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
  const out: Partial<Record<(typeof WRITABLE)[number], string>> = {};
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    // Property names compare case-insensitively, as in $select (see selected()).
    const writable = WRITABLE.find((w) => w.toLowerCase() === name.toLowerCase());
    if (!writable) {
      throw new GraphError(
        400,
        'Request_BadRequest',
        READABLE.some((r) => r.toLowerCase() === name.toLowerCase())
          ? `Property '${name}' is read-only and cannot be set.`
          : `Invalid property '${name.slice(0, 64)}'.`,
      );
    }
    // null clears givenName or surname, as Graph does (microsoftgraph/msgraph-sdk-dotnet#2298,
    // msgraph-sdk-powershell#833); an empty string stays Graph's "invalid value" (#187).
    if (value === null && NULLABLE.includes(writable)) {
      out[writable] = '';
      continue;
    }
    // displayName is required on a user: Graph says so for null or blank.
    if (
      writable === 'displayName' &&
      (value === null || (typeof value === 'string' && value.trim() === ''))
    )
      throw new GraphError(
        400,
        'Request_BadRequest',
        "A value is required for property 'displayName' of resource 'User'.",
      );
    // Lengths count UTF-16 code units, as Graph (a .NET service) does: an emoji counts 2. A
    // control character or a lone surrogate (JSON's \ud800) is no name either.
    if (
      typeof value !== 'string' ||
      value.trim() === '' ||
      value.length > MAX_LENGTH[writable] ||
      hasControlCharacter(value)
    ) {
      throw new GraphError(
        400,
        'Request_BadRequest',
        `Invalid value specified for property '${writable}' of resource 'User'.`,
      );
    }
    out[writable] = value.trim();
  }
  return out;
}

/** Whether a request URL is under Graph's /v1.0 (Graph's error shape there). */
export function isGraphPath(url: string): boolean {
  return url.startsWith('/v1.0/');
}

/** A /v1.0 URL the router cannot read (malformed percent-encoding): Graph's 400 BadRequest. */
export function graphUnreadableUrl(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const raw = req.url.split('?', 1)[0]!.split('/').slice(2);
  const segment = (raw[0] === 'me' ? raw[1] : raw[0]) ?? '';
  return sendGraphError(
    req,
    reply,
    new GraphError(
      400,
      'BadRequest',
      `Resource not found for the segment '${segment.slice(0, 64)}'.`,
    ),
  );
}

export function registerGraphRoutes(app: FastifyInstance, ctx: IdentityContext): void {
  const handle =
    (fn: (req: FastifyRequest, reply: FastifyReply) => FastifyReply) =>
    (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
      try {
        return fn(req, reply);
      } catch (e) {
        if (e instanceof GraphError) return sendGraphError(req, reply, e);
        throw e;
      }
    };
  app.get(
    '/v1.0/me',
    handle((req, reply) => {
      const { tenant, user, scopes } = authenticate(ctx, req);
      if (!scopes.includes('User.Read') && !scopes.includes('User.ReadWrite')) {
        throw new GraphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
        );
      }
      return reply.header('cache-control', 'no-store').send(selected(req, view(tenant, user)));
    }),
  );
  app.patch('/v1.0/me', {
    // A body Fastify cannot parse (bad JSON, too large) still gets Graph's error shape.
    errorHandler: (err: { statusCode?: number }, req, reply) => {
      void sendGraphError(
        req,
        reply,
        new GraphError(
          err.statusCode === 413 ? 413 : 400,
          'BadRequest',
          'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
        ),
      );
    },
    handler: handle((req, reply) => {
      const { user, scopes } = authenticate(ctx, req);
      if (!scopes.includes('User.ReadWrite'))
        throw new GraphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
        );
      if (mediaType(req.headers['content-type']) !== 'application/json')
        throw new GraphError(415, 'UnsupportedMediaType', 'Content-Type must be application/json.');
      const changes = parsePatch(req.body);
      ctx.users.updateProfile(user, {
        givenName: changes.givenName ?? user.givenName,
        surname: changes.surname ?? user.surname,
        displayName: changes.displayName ?? user.displayName,
      });
      return reply.code(204).header('cache-control', 'no-store').send();
    }),
  });
  // What this stand-in does not serve under /v1.0 still answers in Graph's shape: another method
  // on /me is 405, any other path is Graph's 400 for a segment it cannot resolve. The URL decides
  // that, not the body: one Fastify cannot parse (bad JSON, too large) gets the same answer.
  app.all('/v1.0/*', {
    errorHandler: (_err, req, reply) => {
      void sendGraphError(req, reply, unserved(req));
    },
    handler: handle((req) => {
      throw unserved(req);
    }),
  });
}

/** The answer to a /v1.0 request this stand-in does not serve. */
function unserved(req: FastifyRequest): GraphError {
  const segments = req.url.split('?', 1)[0]!.split('/').slice(2);
  if (segments.length === 1 && segments[0] === 'me')
    return new GraphError(
      405,
      'Request_BadRequest',
      'Specified HTTP method is not allowed for the request target.',
    );
  const unknown = (segments[0] === 'me' ? segments[1] : segments[0]) ?? '';
  let name = unknown;
  try {
    name = decodeURIComponent(unknown);
  } catch {
    // Malformed percent-encoding: name the segment as sent.
  }
  return new GraphError(
    400,
    'BadRequest',
    `Resource not found for the segment '${name.slice(0, 64)}'.`,
  );
}
