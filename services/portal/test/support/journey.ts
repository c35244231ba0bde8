// The stack a browser journey runs against, for either customer identity provider: PostgreSQL,
// NATS, dev-azure in-process, policy-api and the portal as processes from their built
// dist/main.js behind the local HTTPS entry point, and one Chromium page. Registers its own
// beforeAll/afterAll; screenshots and the services' (redacted) logs go to artifacts/e2e/<name>.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDevAzure, type DevAzure } from '@idp/dev-azure';
import {
  freePort,
  startNats,
  startNode,
  startPostgres,
  waitForHttp,
  type RunningProcess,
  type TestNatsServer,
  type TestPostgres,
} from '@idp/testing';
import { chromium, type Browser, type Cookie, type Page } from 'playwright-core';
import { axeViolations, describeViolations } from './a11y';

const PORTAL_ENTRY = join(__dirname, '..', '..', 'dist', 'main.js');
const POLICY_API_ENTRY = join(__dirname, '..', '..', '..', 'policy-api', 'dist', 'main.js');
// The local HTTPS entry point of `npm run up` (routes mirror the ingress).
const ENTRY_PROXY = join(__dirname, '..', '..', '..', '..', 'scripts', 'entry-proxy.mjs');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The page's outline as assistive technology sees it: landmarks and headings by role. */
async function outline(page: Page): Promise<Record<string, number | string>> {
  const count = (role: Parameters<Page['getByRole']>[0], name?: string) =>
    page.getByRole(role, name ? { name, exact: true } : {}).count();
  return {
    lang: (await page.locator('html').getAttribute('lang')) ?? '',
    title: await page.title(),
    h1: await page.getByRole('heading', { level: 1 }).count(),
    banner: await count('banner'),
    navigation: await count('navigation', 'Main'),
    main: await count('main'),
    contentinfo: await count('contentinfo'),
    skipLink: await count('link', 'Skip to main content'),
  };
}

export interface JourneyOptions {
  /** Folder under artifacts/e2e for this journey's screenshots and logs. */
  name: string;
  /** policy-api's identity settings (which providers it trusts). */
  policyApiEnv: (azure: DevAzure) => Record<string, string>;
  /** The portal's provider settings. */
  portalEnv: (s: {
    entryUrl: string;
    identityUrl: string;
    policyApiUrl: string;
  }) => Record<string, string>;
}

export interface Journey {
  readonly azure: DevAzure;
  readonly entryUrl: string;
  readonly apiUrl: string;
  readonly page: Page;
  /** Every URL the browser requested so far, in order. */
  readonly requestedUrls: readonly URL[];
  /** The one logout request (end_session_endpoint) the browser made; fails on none or several. */
  logoutRequest(): URL;
  shot(name: string): Promise<void>;
  /**
   * axe-core (WCAG 2.1 A/AA and best practices) on the portal page now shown: fails on any
   * violation, listing them. Every result also goes to artifacts/e2e/<name>/a11y.txt.
   */
  a11y(pageName: string): Promise<void>;
  /** The same check on an identity provider page (dev-azure, not ours): recorded in a11y-idp.txt only. */
  a11yReport(pageName: string): Promise<void>;
  /** Clicks and waits for the navigation it causes to land on `url`. */
  clickTo(selector: string, url: RegExp | ((u: URL) => boolean)): Promise<void>;
  text(selector: string): Promise<string>;
  count(selector: string): Promise<number>;
  sessionCookie(): Promise<Cookie | undefined>;
  onPortal(path: string): (u: URL) => boolean;
  onIdp(u: URL): boolean;
}

interface Running {
  pg: TestPostgres;
  nats: TestNatsServer;
  azure: DevAzure;
  dataDir: string;
  entryUrl: string;
  apiUrl: string;
  processes: { entry: RunningProcess; api: RunningProcess; portal: RunningProcess };
  browser: Browser;
  page: Page;
  requestedUrls: URL[];
}

export function useJourney(o: JourneyOptions): Journey {
  const artifacts = join(__dirname, '..', '..', 'artifacts', 'e2e', o.name);
  let running: Running | undefined;
  let shotNo = 0;
  const live = (): Running => {
    if (!running) throw new Error('the journey stack is not running (beforeAll failed?)');
    return running;
  };

  beforeAll(async () => {
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    const dataDir = mkdtempSync(join(tmpdir(), `portal-e2e-${o.name}-`));
    const [pg, nats, azure] = await Promise.all([
      startPostgres(),
      startNats(),
      startDevAzure({ dataDir, keyVault: false }),
    ]);
    const [apiPort, portalPort, entryPort] = [await freePort(), await freePort(), await freePort()];
    const entryUrl = `https://localhost:${entryPort}`;
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const caDir = dirname(process.env.NODE_EXTRA_CA_CERTS ?? '');
    const entry = startNode(ENTRY_PROXY, {
      ENTRY_PORT: String(entryPort),
      ENTRY_TLS_CERT: join(caDir, 'server.pem'),
      ENTRY_TLS_KEY: join(caDir, 'server.key.pem'),
      ENTRY_ROUTES: JSON.stringify([{ prefix: '/', upstream: `http://127.0.0.1:${portalPort}` }]),
    });
    const api = startNode(POLICY_API_ENTRY, {
      NODE_ENV: 'test',
      PORT: String(apiPort),
      LOG_LEVEL: 'warn',
      NATS_URL: nats.url,
      DATABASE_URL: await pg.createDatabase(),
      MIGRATE_ON_START: 'true',
      ...o.policyApiEnv(azure),
    });
    const portal = startNode(PORTAL_ENTRY, {
      ...o.portalEnv({ entryUrl, identityUrl: azure.identityUrl, policyApiUrl: apiUrl }),
      PORT: String(portalPort),
      LOG_LEVEL: 'info',
      DATABASE_URL: await pg.createDatabase(),
      MIGRATE_ON_START: 'true',
    });
    await Promise.all([
      waitForHttp(`${apiUrl}/readyz`, { proc: api }),
      waitForHttp(`http://127.0.0.1:${portalPort}/readyz`, { proc: portal }),
      waitForHttp(`https://127.0.0.1:${entryPort}/healthz`, { proc: entry }),
    ]);
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    });
    // The dev CA is not in Chromium's store; Secure cookies still need (and get) an https origin.
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1100, height: 900 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const requestedUrls: URL[] = [];
    context.on('request', (r) => requestedUrls.push(new URL(r.url())));
    running = {
      pg,
      nats,
      azure,
      dataDir,
      entryUrl,
      apiUrl,
      processes: { entry, api, portal },
      browser,
      page,
      requestedUrls,
    };
  });

  afterAll(async () => {
    if (!running) return;
    const { browser, processes, azure, nats, pg, dataDir } = running;
    await browser.close();
    const codes = await Promise.all([
      processes.portal.stop(),
      processes.api.stop(),
      processes.entry.stop(),
    ]);
    // The services' own (redacted) logs, kept next to the screenshots for diagnosis.
    writeFileSync(join(artifacts, 'portal.log'), processes.portal.output());
    writeFileSync(join(artifacts, 'policy-api.log'), processes.api.output());
    await Promise.all([azure.stop(), nats.dispose(), pg.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0, 0]);
  });

  return {
    get azure() {
      return live().azure;
    },
    get entryUrl() {
      return live().entryUrl;
    },
    get apiUrl() {
      return live().apiUrl;
    },
    get page() {
      return live().page;
    },
    get requestedUrls() {
      return live().requestedUrls;
    },
    logoutRequest: () => {
      const found = live().requestedUrls.filter((u) => u.pathname.endsWith('/oauth2/v2.0/logout'));
      expect(found.map((u) => u.pathname)).toHaveLength(1);
      return found[0]!;
    },
    shot: async (name) => {
      shotNo += 1;
      await live().page.screenshot({
        path: join(artifacts, `${String(shotNo).padStart(2, '0')}-${name}.png`),
        fullPage: true,
      });
    },
    a11y: async (pageName) => {
      const { page, entryUrl } = live();
      expect(new URL(page.url()).origin).toBe(entryUrl); // the portal's pages only
      const { violations, incomplete } = await axeViolations(page);
      const where = `${pageName} (${new URL(page.url()).pathname})`;
      const report = describeViolations(where, violations, incomplete);
      appendFileSync(join(artifacts, 'a11y.txt'), `${report}\n`);
      if (violations.length > 0) throw new Error(report);
      // What axe leaves to best practice or does not check: the page's outline, by role.
      expect({ page: pageName, ...(await outline(page)) }).toEqual({
        page: pageName,
        lang: 'en',
        title: expect.stringMatching(/\S · Contoso Insurance$/),
        h1: 1,
        banner: 1,
        navigation: 1,
        main: 1,
        contentinfo: 1,
        skipLink: 1,
      });
    },
    a11yReport: async (pageName) => {
      const { page } = live();
      const { violations, incomplete } = await axeViolations(page);
      const where = `${pageName} (${new URL(page.url()).pathname})`;
      const report = describeViolations(where, violations, incomplete);
      const shape = JSON.stringify(await outline(page));
      appendFileSync(join(artifacts, 'a11y-idp.txt'), `${report}\n    outline: ${shape}\n`);
    },
    clickTo: async (selector, url) => {
      const { page } = live();
      await Promise.all([page.waitForURL(url), page.click(selector)]);
    },
    text: async (selector) =>
      ((await live().page.locator(selector).first().textContent()) ?? '').trim(),
    count: (selector) => live().page.locator(selector).count(),
    sessionCookie: async () =>
      (await live().page.context().cookies(live().entryUrl)).find(
        (c) => c.name === '__Host-portal_sid',
      ),
    onPortal: (path) => (u) => u.origin === live().entryUrl && u.pathname === path,
    onIdp: (u) => u.origin === live().azure.identityUrl,
  };
}
