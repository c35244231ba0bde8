// Traces from the real services (built dist/main.js) configured only by OTEL_* variables, exported
// as OTLP/HTTP JSON to an in-test receiver: HTTP server spans named by route template, pg and
// Prisma spans under them, client spans for Key Vault / Entra / MSAL, W3C context continued,
// trace ids in the logs, and nothing secret or personal in anything exported.
import { request, tokensAcquireSubject, TokensAcquire } from '@idp/contracts';
import { randomBytes } from 'node:crypto';
import { call } from '../support/http';
import { startStack, type Stack } from '../support/stack';
import { scimAdminToken, userToken } from '../support/tokens';
import {
  otelEnv,
  SpanKind,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from './otlp-receiver';

jest.setTimeout(120_000);

const EMAIL = 'alice@contoso.example';
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const inTrace = (spans: ReceivedSpan[], traceId: string) =>
  spans.filter((s) => s.traceId === traceId);
const isPg = (s: ReceivedSpan) =>
  s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql';

describe('traces (OpenTelemetry, OTLP export)', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  const secrets: string[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env = { ...otelEnv(receiver), LOG_LEVEL: 'info' };
    stack = await startStack({
      services: ['policy-api', 'scim', 'token-broker', 'portal'],
      env: { 'policy-api': env, scim: env, 'token-broker': env, portal: env },
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  it('policy-api: one trace continuing the caller, a server span named by route template, Prisma and pg spans under it, trace ids in the logs', async () => {
    const traceId = hex(16);
    const parent = hex(8);
    const token = await userToken(stack, EMAIL);
    secrets.push(token);
    const r = await call('GET', `${stack.url('policy-api')}/policies/me`, {
      token,
      headers: { traceparent: `00-${traceId}-${parent}-01` },
    });
    expect([200, 201]).toContain(r.status);

    const server = await receiver.waitFor(
      (spans) =>
        inTrace(spans, traceId).find(
          (s) => s.service === 'policy-api' && s.kind === SpanKind.SERVER,
        ),
      'policy-api server span',
    );
    expect(server.parentSpanId).toBe(parent);
    expect(server.name).toBe('GET /policies/me');
    expect(server.attributes['http.route']).toBe('/policies/me');
    const db = await receiver.waitFor((spans) => {
      const t = inTrace(spans, traceId).filter(isPg);
      return t.length ? t : undefined;
    }, 'pg spans in the request trace');
    expect(db.every((s) => s.service === 'policy-api' && s.kind === SpanKind.CLIENT)).toBe(true);

    const lines = stack
      .proc('policy-api')
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const traced = lines
      .map((l) => JSON.parse(l) as { trace_id?: string; span_id?: string; msg?: string })
      .filter((l) => l.trace_id === traceId);
    expect(traced.map((l) => l.msg)).toContain('request completed');
    expect(traced.every((l) => /^[0-9a-f]{16}$/.test(l.span_id ?? ''))).toBe(true);
  });

  it('scim: a PATCH is one trace with its server span (route template) and pg spans', async () => {
    const admin = await scimAdminToken(stack);
    // Directories exist only once created (admin API).
    const directory = await call('POST', `${stack.url('scim')}/admin/directories`, {
      token: admin,
      body: { id: 'otel' },
    });
    expect(directory.status).toBe(201);
    const created = await call<{ token: string }>(
      'POST',
      `${stack.url('scim')}/admin/directories/otel/tokens`,
      { token: admin, body: { name: 'otel', lifetimeDays: 30 } },
    );
    expect(created.status).toBe(201);
    secrets.push(admin, created.body.token);
    const scim = `${stack.url('scim')}/scim/v2`;
    const user = await call<{ id: string }>('POST', `${scim}/Users`, {
      token: created.body.token,
      headers: { 'content-type': 'application/scim+json' },
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'traced.person@fabrikam.example',
        active: true,
      },
    });
    expect(user.status).toBe(201);
    const traceId = hex(16);
    const patch = await call('PATCH', `${scim}/Users/${user.body.id}`, {
      token: created.body.token,
      headers: {
        'content-type': 'application/scim+json',
        traceparent: `00-${traceId}-${hex(8)}-01`,
      },
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      },
    });
    expect(patch.status).toBe(200);
    const spans = await receiver.waitFor((all) => {
      const t = inTrace(all, traceId);
      return t.some((s) => s.kind === SpanKind.SERVER) && t.some(isPg) ? t : undefined;
    }, 'scim server and pg spans');
    expect(
      spans.filter(isPg).every((s) => s.service === 'scim' && s.kind === SpanKind.CLIENT),
    ).toBe(true);
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.service).toBe('scim');
    expect(server.name).toBe('PATCH /scim/v2/Users/:id');
    expect(server.attributes['http.route']).toBe('/scim/v2/Users/:id');
  });

  it('token-broker: Key Vault sign and the Entra token request are client spans', async () => {
    const reader = await stack.connect('policy-reader');
    const reply = await request(
      reader,
      TokensAcquire,
      { registration: 'policy-daemon', scope: 'api://policy-api/.default' },
      { subject: tokensAcquireSubject('policy-reader'), timeout: 30_000 },
    );
    if (!reply.ok) throw new Error(`broker refused: ${reply.error.code}`);
    secrets.push(reply.accessToken);
    const vault = new URL(stack.azure.keyVaultUrl).host;
    const clients = await receiver.waitFor((spans) => {
      const broker = spans.filter(
        (s) => s.service === 'token-broker' && s.kind === SpanKind.CLIENT,
      );
      const sign = broker.find(
        (s) =>
          String(s.attributes['url.full']).includes(vault) &&
          String(s.attributes['url.full']).includes('/sign'),
      );
      const entra = broker.find((s) =>
        String(s.attributes['url.full']).includes('/oauth2/v2.0/token'),
      );
      return sign && entra ? { sign, entra } : undefined;
    }, 'Key Vault sign and Entra token client spans');
    expect(clients.sign.attributes['http.request.method']).toBe('POST');
    expect(clients.entra.attributes['http.request.method']).toBe('POST');
  });

  it('portal: its server span and the identity provider calls it makes share one trace; OAuth query values are redacted', async () => {
    const traceId = hex(16);
    const r = await fetch(`${stack.url('portal')}/auth/sign-in`, {
      redirect: 'manual',
      headers: { traceparent: `00-${traceId}-${hex(8)}-01` },
    });
    expect(r.status).toBe(302);
    const spans = await receiver.waitFor((all) => {
      const t = inTrace(all, traceId);
      return t.some((s) => s.kind === SpanKind.SERVER) && t.some((s) => s.kind === SpanKind.CLIENT)
        ? t
        : undefined;
    }, 'portal server and client spans in one trace');
    expect(spans.every((s) => s.service === 'portal')).toBe(true);

    const code = `eyJ${randomBytes(24).toString('base64url')}.${randomBytes(24).toString('base64url')}.sig`;
    const redirectTrace = hex(16);
    await fetch(
      `${stack.url('portal')}/auth/redirect?code=${code}&state=${hex(8)}&other=${encodeURIComponent(EMAIL)}`,
      { redirect: 'manual', headers: { traceparent: `00-${redirectTrace}-${hex(8)}-01` } },
    );
    const server = await receiver.waitFor(
      (all) => inTrace(all, redirectTrace).find((s) => s.kind === SpanKind.SERVER),
      'portal redirect server span',
    );
    expect(server.attributes['url.query']).toBe('code=REDACTED&state=REDACTED&other=REDACTED');
    secrets.push(code);
  });

  it('exports no token, secret, session material or demo user e-mail', async () => {
    // Wait for the queue to drain (100 ms batches), then grep everything exported.
    await new Promise((r) => setTimeout(r, 500));
    const exported = receiver.bodies.join('\n');
    expect(receiver.spans.length).toBeGreaterThan(20);
    // What leaked, with a little context (not the whole export) when it fails.
    const leaks = (needle: RegExp | string): string[] =>
      [
        ...exported.matchAll(
          typeof needle === 'string'
            ? new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g')
            : needle,
        ),
      ].map((m) => exported.slice(Math.max(0, m.index - 80), m.index + 80));
    expect(secrets.length).toBe(5);
    expect(leaks(/eyJ[A-Za-z0-9_-]{8,}/g)).toEqual([]);
    expect(leaks(/[A-Za-z0-9._%+-]+@(contoso|fabrikam)\.example/g)).toEqual([]);
    for (const s of [
      ...secrets,
      stack.natsPassword('policy-api'),
      stack.natsPassword('token-broker'),
      stack.natsPassword('policy-reader'),
    ])
      expect(leaks(s)).toEqual([]);
  });
});
