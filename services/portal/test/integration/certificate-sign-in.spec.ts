// Sign-in with a certificate client credential instead of a secret, end to end against the
// B2C stand-in: its portal app has no secret, only the certificate, so the code redemption
// works only with the signed client assertion (private_key_jwt) MSAL builds from the
// configured key; a portal holding another certificate is refused.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDevAzure, type DevAzure, type DevAzureConfigInput } from '@idp/dev-azure';
import { startPostgres, type TestPostgres } from '@idp/testing';
import type { LightMyRequestResponse } from 'fastify';
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { SessionStore } from '../../src/session/session-store';
import { startPortalInProcess, type InProcessPortal } from '../support/portal-app';
import { portalEnv } from '../support/portal-env';
import { B2C_ALICE } from '../support/b2c-sign-in';

const COOKIE = '__Host-portal_sid';
const ALICE = B2C_ALICE;
// The dev CA's server certificate is the portal's credential; the CA's own pair is "another" one.
const caDir = dirname(
  process.env.NODE_EXTRA_CA_CERTS ??
    join(__dirname, '..', '..', '..', '..', '.dev', 'ca', 'ca.pem'),
);
const registered = { cert: join(caDir, 'server.pem'), key: join(caDir, 'server.key.pem') };
const other = { cert: join(caDir, 'ca.pem'), key: join(caDir, 'ca.key.pem') };

let pg: TestPostgres;
let azure: DevAzure;
let dataDir: string;
const portals: InProcessPortal[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'portal-cert-'));
  const config = JSON.parse(
    readFileSync(
      join(__dirname, '..', '..', '..', '..', 'dev-azure', 'config', 'dev-azure.json'),
      'utf8',
    ),
  ) as DevAzureConfigInput;
  for (const t of config.tenants) {
    for (const app of t.apps ?? []) {
      if (app.name !== 'portal') continue;
      app.secrets = [];
      app.certificates = [
        { description: 'portal sign-in certificate', pem: readFileSync(registered.cert, 'utf8') },
      ];
    }
  }
  [pg, azure] = await Promise.all([
    startPostgres(),
    startDevAzure({ dataDir, keyVault: false, config }),
  ]);
}, 60000);
afterAll(async () => {
  await Promise.all(portals.map((p) => p.close()));
  await Promise.all([pg?.stop(), azure?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A portal with a certificate credential (and no secret), with its own cookie jar. */
async function portalWith(pair: { cert: string; key: string }) {
  const env: Record<string, string> = {
    ...portalEnv({ b2cHost: azure.identityUrl }),
    DATABASE_URL: await pg.createDatabase(),
  };
  delete env.B2C_CLIENT_SECRET;
  const portal = await startPortalInProcess({
    ...env,
    B2C_CLIENT_CERTIFICATE_FILE: pair.cert,
    B2C_CLIENT_PRIVATE_KEY_FILE: pair.key,
  });
  portals.push(portal);
  let cookie = '';
  const get = async (url: string): Promise<LightMyRequestResponse> => {
    const res = await portal.fastify.inject({
      method: 'GET',
      url,
      headers: cookie ? { cookie: `${COOKIE}=${cookie}` } : {},
    });
    const set = ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith(`${COOKIE}=`));
    if (set) cookie = set.slice(COOKIE.length + 1).split(';')[0] ?? '';
    return res;
  };
  /** Signs Alice in at the stand-in and returns the portal's answer to the callback. */
  const signIn = async () => {
    const start = await get('/auth/sign-in');
    const b2c = new HttpBrowser(azure.identityUrl);
    const back = expectRedirect(
      await b2c.submit(expectPage(await b2c.open(String(start.headers.location))), ALICE),
    );
    return get(`${back.pathname}${back.search}`);
  };
  return { portal, get, signIn, cookie: () => cookie };
}

describe('portal with a certificate credential', () => {
  it('redeems the code with a signed assertion and signs the user in', async () => {
    const p = await portalWith(registered);
    const done = await p.signIn();
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/');
    const home = await p.get('/');
    expect(home.body).toContain('Alice Example');
    const session = await p.portal.app.get(SessionStore).load(p.cookie());
    expect(session?.data.msalCache).toMatch(/refresh_token|RefreshToken/i);
  });

  it('is refused by B2C when it holds a certificate the app does not have, with an error page', async () => {
    const p = await portalWith(other);
    const done = await p.signIn();
    expect(done.statusCode).toBe(400);
    expect(done.body).toContain('The identity provider did not accept the sign-in');
    expect((await p.get('/')).body).not.toContain('Alice Example');
  });
});
