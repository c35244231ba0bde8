// The token endpoint's CORS answer as a real browser sees it from a single-page app on another
// origin: a simple request (a form POST with no other headers, all MSAL.js sends) gets an answer
// the page can read; a request that needs a preflight (a custom header, a JSON body) is refused
// by the browser, since the preflight gets no CORS grant (as at Entra).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { ensureDevCa } from '../../src';
import { launchChromium } from '../support/chromium';
import { seed, startTestAzure, type TestAzure } from '../support/harness';

let t: TestAzure;
/** Serves the SPA's page on its own origin (another port of loopback). */
let spa: Server;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const ca = await ensureDevCa();
  t = await startTestAzure();
  browser = await launchChromium(ca);
  // A real server, not page.route: Chromium skips CORS checks for intercepted requests.
  spa = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>SPA</title>'),
  );
  await new Promise<void>((resolve) => spa.listen(0, '127.0.0.1', resolve));
  page = await (await browser.newContext()).newPage();
  await page.goto(`http://127.0.0.1:${(spa.address() as AddressInfo).port}/`);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await new Promise((resolve) => spa?.close(resolve));
});

/** What the page's fetch to the token endpoint sees: the status and error, or the network error. */
function fromPage(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; error: string } | { failed: string }> {
  return page.evaluate(
    async ({ url, headers, body }) => {
      try {
        const res = await fetch(url, { method: 'POST', headers, body });
        const json = (await res.json()) as { error?: string };
        return { status: res.status, error: json.error ?? '' };
      } catch (e) {
        return { failed: String(e) };
      }
    },
    { url, headers, body },
  );
}

describe('token endpoint CORS in Chromium', () => {
  const token = () => `${t.azure.identityUrl}/${seed.contosoext.id}/oauth2/v2.0/token`;
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it('lets the page read the answer to a simple form POST, an error included', async () => {
    expect(await fromPage(token(), form, 'grant_type=refresh_token')).toEqual({
      status: 400,
      error: 'invalid_request',
    });
  });

  it('refuses, in the browser, a request that needs a preflight', async () => {
    for (const [headers, body] of [
      [{ ...form, 'x-client-sku': 'msal.js.browser' }, 'grant_type=refresh_token'],
      [{ 'content-type': 'application/json' }, '{"grant_type":"refresh_token"}'],
    ] as const) {
      expect(await fromPage(token(), headers, body)).toEqual({
        failed: expect.stringMatching(/TypeError: Failed to fetch/),
      });
    }
  });
});
