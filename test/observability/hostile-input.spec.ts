// What the running services emit to operators when clients send hostile input: tokens, e-mail
// addresses and names in paths, headers, bodies and OAuth error responses never reach a log line,
// an exported span or a metric, and made-up paths, methods and directories add no metric series.
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { call } from '../support/http';
import { startStack, type ServiceName, type Stack } from '../support/stack';
import { scimAdminToken } from '../support/tokens';
import { otelEnv, startOtlpReceiver, type OtlpReceiver } from './otlp-receiver';

jest.setTimeout(180_000);

const SERVICES: ServiceName[] = ['policy-api', 'scim', 'token-broker', 'portal'];
const JWT = `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJob3N0aWxlIn0.${randomBytes(24).toString('base64url')}`;
const EMAIL = 'mallory.hostile@contoso.example';
const NAME = 'Zebulon Probington';
const hex = (n: number) => randomBytes(n).toString('hex');

/** One raw HTTP/1.1 exchange (methods and bytes fetch would refuse to send). */
function raw(url: string, text: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    let out = '';
    const s = netConnect(Number(u.port), u.hostname, () => s.write(text));
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.setTimeout(5000, () => s.destroy());
  });
}

/** The label sets of a metric family in a scrape (values left out). */
async function seriesOf(stack: Stack, s: ServiceName, metric: string): Promise<string[]> {
  const text = await (await fetch(`${stack.url(s)}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${metric}{`))
    .map((l) => l.slice(0, l.lastIndexOf('}') + 1));
}

/** Every place `needle` occurs in `text`, with a little context (not the whole text) on failure. */
function leaks(text: string, needle: RegExp | string): string[] {
  const re =
    typeof needle === 'string'
      ? new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g')
      : needle;
  return [...text.matchAll(re)].map((m) => text.slice(Math.max(0, m.index - 100), m.index + 60));
}

describe('hostile input: logs, metrics and spans', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // Debug: every line a service can write is written (auth rejections, MSAL, ...).
    const env = { ...otelEnv(receiver), LOG_LEVEL: 'debug' };
    stack = await startStack({
      services: SERVICES,
      env: { 'policy-api': env, scim: env, 'token-broker': env, portal: env },
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  });

  const hostileHeaders = {
    'user-agent': `Mozilla/5.0 ${EMAIL} ${JWT}`,
    cookie: `portal_session=${JWT}; email=${EMAIL}`,
    referer: `https://evil.example/${EMAIL}`,
    authorization: `Bearer ${JWT}`,
  };

  it('made-up paths and methods add no HTTP metric series', async () => {
    for (const s of SERVICES) {
      const base = stack.url(s);
      const burst = (n: number) =>
        Promise.all(
          Array.from({ length: n }, () =>
            fetch(`${base}/${hex(8)}/${hex(4)}?q=${hex(4)}`).then((r) => r.arrayBuffer()),
          ),
        );
      const odd = async () => {
        for (const m of ['FOO', 'PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'LOCK'])
          await raw(base, `${m} /${hex(6)} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      };
      await burst(5);
      await odd();
      const before = await seriesOf(stack, s, 'http_server_requests_total');
      for (let i = 0; i < 4; i++) await burst(50);
      await odd();
      expect(await seriesOf(stack, s, 'http_server_requests_total')).toHaveLength(before.length);
    }
  });

  it('requests to made-up SCIM directories add no scim_directory_requests_total series', async () => {
    const scim = stack.url('scim');
    await fetch(`${scim}/${hex(6)}/scim/v2/Users`);
    const before = await seriesOf(stack, 'scim', 'scim_directory_requests_total');
    for (let i = 0; i < 40; i++)
      await fetch(`${scim}/${hex(6)}/scim/v2/Users`, i % 2 ? { headers: hostileHeaders } : {});
    expect(await seriesOf(stack, 'scim', 'scim_directory_requests_total')).toEqual(before);
  });

  it('tokens, addresses and names sent anywhere never reach a log line, a span or /metrics', async () => {
    for (const s of SERVICES) {
      const base = stack.url(s);
      // In the path (the request line is logged), with hostile headers and a body.
      await fetch(`${base}/${EMAIL}/${JWT}`, { headers: hostileHeaders });
      await fetch(`${base}/policies/${encodeURIComponent(EMAIL)}`, { headers: hostileHeaders });
      await fetch(`${base}/${encodeURIComponent(`${NAME}\r\n{"level":60}`)}`);
      await fetch(`${base}/x/${JWT}`, {
        method: 'POST',
        headers: { ...hostileHeaders, 'content-type': 'application/json' },
        body: `{"email":"${EMAIL}","name":"${NAME}","token":"${JWT}"`,
      });
    }
    // policy-api: bad bearer tokens (the JWT, a Basic credential with an address).
    const api = stack.url('policy-api');
    await fetch(`${api}/policies/me`, { headers: { authorization: `Bearer ${JWT}` } });
    await fetch(`${api}/policies/me`, {
      headers: { authorization: `Basic ${Buffer.from(`${EMAIL}:pw`).toString('base64')}` },
    });

    // SCIM: a user with personal data, and ids that are addresses.
    const admin = await scimAdminToken(stack);
    // Directories exist only once created (admin API).
    const directory = await call('POST', `${stack.url('scim')}/admin/directories`, {
      token: admin,
      body: { id: 'hostile' },
    });
    expect(directory.status).toBe(201);
    const created = await call<{ token: string }>(
      'POST',
      `${stack.url('scim')}/admin/directories/hostile/tokens`,
      { token: admin, body: { name: 'hostile', lifetimeDays: 30 } },
    );
    expect(created.status).toBe(201);
    const scimToken = created.body.token;
    const scim = `${stack.url('scim')}/scim/v2`;
    const scimHeaders = { 'content-type': 'application/scim+json' };
    const user = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: EMAIL,
      displayName: NAME,
      emails: [{ value: EMAIL, primary: true }],
      active: true,
    };
    expect(
      (await call('POST', `${scim}/Users`, { token: scimToken, headers: scimHeaders, body: user }))
        .status,
    ).toBe(201);
    expect(
      (await call('POST', `${scim}/Users`, { token: scimToken, headers: scimHeaders, body: user }))
        .status,
    ).toBe(409);
    await call('PATCH', `${scim}/Users/${encodeURIComponent(EMAIL)}`, {
      token: scimToken,
      headers: scimHeaders,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'displayName', value: NAME }],
      },
    });
    await call('GET', `${scim}/Users?filter=${encodeURIComponent(`userName eq "${EMAIL}"`)}`, {
      token: scimToken,
    });
    await call('PUT', `${stack.url('scim')}/admin/directories/${encodeURIComponent(EMAIL)}`, {
      token: admin,
      body: { profile: NAME },
    });

    // portal: a failing sign-in whose error response carries what a browser may write.
    const portal = stack.url('portal');
    const signIn = await fetch(`${portal}/auth/sign-in`, { redirect: 'manual' });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const state = new URL(signIn.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const failed = await fetch(
      `${portal}/auth/redirect?state=${state}&error=${encodeURIComponent(
        `${NAME} ${EMAIL} ${JWT}\r\n{"level":60,"msg":"forged"}`,
      )}&error_description=${encodeURIComponent(`AADB2C90000 ${EMAIL}`)}`,
      { redirect: 'manual', headers: { cookie } },
    );
    expect(failed.status).toBe(400);
    // ...and a made-up code (a JWT) redeemed against the identity provider.
    const again = await fetch(`${portal}/auth/sign-in`, {
      redirect: 'manual',
      headers: { cookie },
    });
    const state2 = new URL(again.headers.get('location') ?? '').searchParams.get('state') ?? '';
    await fetch(`${portal}/auth/redirect?state=${state2}&code=${JWT}`, {
      redirect: 'manual',
      headers: { cookie },
    });
    await fetch(`${portal}/profile`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: `${cookie}; x=${JWT}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `displayName=${encodeURIComponent(NAME)}&email=${EMAIL}`,
    });

    await new Promise((r) => setTimeout(r, 600)); // spans: 100 ms export batches
    for (const s of SERVICES) {
      const output = stack.proc(s).output();
      const lines = output.split('\n').filter((l) => l.trim() !== '');
      // Every line is still one JSON object (masking kept escapes intact; nothing forged a line).
      const parsed = lines.map((l) => JSON.parse(l) as { msg?: string; level?: number });
      expect(parsed.filter((l) => l.msg === 'forged')).toEqual([]);
      const metrics = await (await fetch(`${stack.url(s)}/metrics`)).text();
      for (const [where, text] of [
        [`${s} log`, output],
        [`${s} /metrics`, metrics],
      ] as const) {
        expect({ where, found: leaks(text, /eyJ[A-Za-z0-9_-]{8,}/g) }).toEqual({
          where,
          found: [],
        });
        for (const needle of [EMAIL, NAME, scimToken, admin])
          expect({ where, found: leaks(text, needle) }).toEqual({ where, found: [] });
      }
    }
    const portalLines = stack
      .proc('portal')
      .output()
      .split('\n')
      .filter((l) => l.includes('authorization error response'))
      .map((l) => JSON.parse(l) as { error?: string; b2c?: string });
    expect(portalLines).toEqual([expect.objectContaining({ error: 'other', b2c: 'AADB2C90000' })]);

    const exported = receiver.bodies.join('\n');
    expect(leaks(exported, /eyJ[A-Za-z0-9_-]{8,}/g)).toEqual([]);
    for (const needle of [EMAIL, NAME, scimToken, admin])
      expect(leaks(exported, needle)).toEqual([]);
  });
});
