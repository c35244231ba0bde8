// One trace from the browser (issue 15): a signed-in customer changes beneficiaries in headless
// Chromium through the portal's real HTTP flow (HTTPS entry point, sign-in at dev-azure by the
// portal's redirect, the form POST, step-up MFA with TOTP, the write retried on the way back).
// Every service exports OTLP/JSON to an in-test receiver; the write that lands is ONE trace:
// portal server span → portal client span (fetch) → policy-api server span → PostgreSQL spans,
// and later the outbox relay's PRODUCER span → a NATS CONSUMER span of the event, each the child
// of the one before. The browser sends no trace context: the portal's server span is the root.
import { PolicyBeneficiariesChanged, traceContextOf } from '@idp/contracts';
import { freePort, startNode, waitForHttp, type RunningProcess } from '@idp/testing';
import type { StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot, startStack, type Stack } from '../support/stack';
import { waitForStream } from '../support/streams';
import {
  otelEnv,
  SpanKind,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from './otlp-receiver';
import { tracedConsumer, type TracedConsumer } from './test-consumer';

jest.setTimeout(240_000);

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const isPg = (s: ReceivedSpan) =>
  s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql';
const status = (s: ReceivedSpan) => Number(s.attributes['http.response.status_code']);
/** `[traceId, parentSpanId]` of a traceparent header value. */
const parts = (traceparent: string | undefined) => (traceparent ?? '').split('-').slice(1, 3);

/** Whether `span` is `ancestor` or descends from it within `trace`. */
function descends(trace: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId ?? ''))
    if (s.spanId === ancestor.spanId) return true;
  return false;
}

describe('one trace from the browser: a beneficiary change through the portal', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  let entry: RunningProcess;
  let entryUrl: string;
  let browser: Browser;
  let page: Page;
  let observer: NatsConnection;
  let consumer: TracedConsumer;
  const user = {
    email: `otel-browser-${Date.now()}@contoso.example`,
    password: 'Traced-Passw0rd!',
    givenName: 'Olive',
    surname: 'Tracer',
    displayName: 'Olive Tracer',
  };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env = otelEnv(receiver);
    const entryPort = await freePort();
    entryUrl = `https://localhost:${entryPort}`;
    stack = await startStack({
      services: ['policy-api', 'portal'],
      // The portal is reached through the HTTPS entry point (its __Host- cookie needs https).
      env: { 'policy-api': env, portal: { ...env, PUBLIC_BASE_URL: entryUrl } },
    });
    const caDir = dirname(process.env.NODE_EXTRA_CA_CERTS ?? '');
    entry = startNode(join(repoRoot, 'scripts', 'entry-proxy.mjs'), {
      ENTRY_PORT: String(entryPort),
      ENTRY_TLS_CERT: join(caDir, 'server.pem'),
      ENTRY_TLS_KEY: join(caDir, 'server.key.pem'),
      ENTRY_ROUTES: JSON.stringify([{ prefix: '/', upstream: stack.url('portal') }]),
    });
    await waitForHttp(`https://127.0.0.1:${entryPort}/healthz`, { proc: entry });
    await stack.azure.identity.createUser({ tenant: stack.seed.contoso.name, ...user });
    observer = await stack.connect('observer');
    consumer = tracedConsumer();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    });
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await entry?.stop();
    await stack?.stop();
    await receiver?.stop();
  });

  const onIdp = (u: URL) => u.origin === stack.azure.identityUrl;
  const onPortal = (path: string) => (u: URL) => u.origin === entryUrl && u.pathname === path;
  const clickTo = async (selector: string, url: (u: URL) => boolean) => {
    await Promise.all([page.waitForURL(url), page.click(selector)]);
  };

  it('signs in, posts the beneficiaries form, steps up, and the change is one trace from the portal to the event consumer', async () => {
    // Sign-in: the portal redirects to the B2C user flow at dev-azure and back.
    await page.goto(`${entryUrl}/policy/beneficiaries`);
    await page.waitForURL(onIdp);
    await page.fill('#email', user.email);
    await page.fill('#password', user.password);
    await clickTo('#next', onPortal('/policy/beneficiaries'));

    // The form POST: the API asks for step-up (401 + challenge); the portal runs the MFA flow.
    await page.fill('#name1', 'Trace Beneficiary');
    await page.selectOption('#relationship1', 'spouse');
    await page.fill('#share1', '100');
    const toMfaFlow = (u: URL) => onIdp(u) && /b2c_1_signupsignin_mfa/i.test(u.pathname);
    await clickTo('#saveBeneficiaries', toMfaFlow);
    await page.fill('#password', user.password);
    await clickTo('#next', toMfaFlow);
    await page.fill('#totpCode', await stack.azure.identity.currentTotp(user.email));
    // Back at the portal: the kept write is retried with the MFA token and lands.
    await clickTo('#verifyTotp', onPortal('/policy'));
    expect(((await page.locator('#flash').textContent()) ?? '').trim()).toMatch(
      /beneficiaries were updated/,
    );

    // The form POST itself is traced: portal server span → client span → policy-api's 401.
    const putServer = (code: number) => (all: ReceivedSpan[]) =>
      all.find(
        (s) =>
          s.service === 'policy-api' &&
          s.kind === SpanKind.SERVER &&
          s.name === 'PUT /policies/me/beneficiaries' &&
          status(s) === code,
      );
    const refused = await receiver.waitFor(putServer(401), 'the step-up 401 of policy-api');
    const post = await receiver.waitFor((all) => {
      const t = all.filter((s) => s.traceId === refused.traceId);
      const root = t.find((s) => s.service === 'portal' && s.kind === SpanKind.SERVER);
      return root ? { root, t } : undefined;
    }, 'the portal server span of the form POST');
    expect(post.root.name).toBe('POST /policy/beneficiaries');
    expect(post.root.parentSpanId).toBeUndefined();
    expect(descends(post.t, refused, post.root)).toBe(true);

    // The write that landed: find its policy-api server span, then everything in its trace.
    const apiServer = await receiver.waitFor(putServer(200), 'the 200 PUT of policy-api');
    const traceId = apiServer.traceId;
    const spans = await receiver.waitFor((all) => {
      const t = all.filter((s) => s.traceId === traceId);
      return t.some((s) => s.service === 'portal' && s.kind === SpanKind.SERVER) &&
        t.some((s) => isPg(s) && s.service === 'policy-api') &&
        t.some((s) => s.kind === SpanKind.PRODUCER)
        ? t
        : undefined;
    }, 'portal, policy-api, pg and outbox publish spans in the trace of the write');

    // portal server span: the root (the browser sent no traceparent).
    const roots = spans.filter((s) => s.parentSpanId === undefined);
    expect(roots).toHaveLength(1);
    const portalServer = roots[0]!;
    expect(portalServer.service).toBe('portal');
    expect(portalServer.kind).toBe(SpanKind.SERVER);
    expect(portalServer.name).toBe('GET /auth/redirect');

    // → portal client span (its fetch to policy-api), the direct parent of the API's server span.
    const portalClient = spans.find((s) => s.spanId === apiServer.parentSpanId);
    expect(portalClient).toBeDefined();
    expect(portalClient!.service).toBe('portal');
    expect(portalClient!.kind).toBe(SpanKind.CLIENT);
    expect(portalClient!.attributes['http.request.method']).toBe('PUT');
    expect(descends(spans, portalClient!, portalServer)).toBe(true);

    // → policy-api server span → PostgreSQL spans under it.
    expect(apiServer.attributes['http.route']).toBe('/policies/me/beneficiaries');
    const db = spans.filter((s) => isPg(s) && s.service === 'policy-api');
    expect(db.length).toBeGreaterThan(0);
    for (const s of db) {
      expect(s.kind).toBe(SpanKind.CLIENT);
      expect(descends(spans, s, apiServer)).toBe(true);
    }
    // The portal's own session reads and writes are in the trace too, under its server span.
    for (const s of spans.filter((x) => isPg(x) && x.service === 'portal'))
      expect(descends(spans, s, portalServer)).toBe(true);

    // → the outbox relay's PRODUCER span: published later, outside the request, yet under it.
    const publish = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(publish.service).toBe('policy-api');
    expect(publish.name).toBe(`publish ${PolicyBeneficiariesChanged.subject}`);
    expect(descends(spans, publish, apiServer)).toBe(true);

    // → the NATS consumer of the event: a CONSUMER span whose parent is the relay's span.
    const carries = (m: StoredMsg) => parts(traceContextOf(m.header).traceparent)[0] === traceId;
    const msgs = await waitForStream(observer, 'POLICY', (m) => m.some(carries));
    const msg = msgs.find(carries)!;
    expect(parts(msg.header.get('traceparent'))).toEqual([traceId, publish.spanId]);
    const event = await consumer.consume(PolicyBeneficiariesChanged, msg);
    expect(event.after).toEqual([
      { name: 'Trace Beneficiary', relationship: 'spouse', sharePercent: 100 },
    ]);
    const consumed = consumer.spans().find((s) => s.spanContext().traceId === traceId);
    expect(consumed?.kind).toBe(SpanKind.CONSUMER - 1); // the API's enum is 0-based, OTLP's 1-based
    expect(consumed?.parentSpanContext?.spanId).toBe(publish.spanId);

    // Nothing the browser flow handled (tokens, codes, the user's e-mail) was exported.
    await new Promise((r) => setTimeout(r, 300));
    const exported = receiver.bodies.join('\n');
    expect(exported).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}/);
    expect(exported).not.toContain(user.email);
    expect(exported).not.toContain(user.password);
  });
});
