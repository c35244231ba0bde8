// Smart lockout, as Entra's: after the threshold of wrong passwords one account is locked for a
// while (AADSTS50053 on the sign-in page; not even the right password passes), other accounts
// are not, the same wrong password again does not count, and the lock ends by itself.
import { createHash, randomBytes } from 'node:crypto';
import { expectPage, expectRedirect, HttpBrowser, type Page } from '../support/http-browser';
import { REDIRECT_URI, seed, startTestAzure, type TestAzure } from '../support/harness';

const { contoso, contosoext } = seed;
const LOCK_SECONDS = 2;
let t: TestAzure;

beforeAll(async () => {
  t = await startTestAzure({
    adjust: (cfg) => {
      for (const tenant of cfg.tenants)
        tenant.smartLockout = { threshold: 3, durationSeconds: LOCK_SECONDS };
    },
  });
});
afterAll(async () => {
  await t.stop();
});

interface Case {
  name: string;
  authorize: () => string;
  clientId: string;
  victim: { email: string; password: string };
  bystander: { email: string; password: string };
}

const cases: Case[] = [
  {
    name: 'B2C user flow',
    authorize: () =>
      `${t.azure.identityUrl}/contoso.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/authorize`,
    clientId: contoso.portal.clientId,
    victim: contoso.bob,
    bystander: contoso.alice,
  },
  {
    name: 'External ID tenant',
    authorize: () => `${t.azure.identityUrl}/${contosoext.id}/oauth2/v2.0/authorize`,
    clientId: contosoext.portal.clientId,
    victim: contosoext.carol,
    bystander: contosoext.alice,
  },
];

async function signInPage(c: Case, browser: HttpBrowser): Promise<Page> {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest();
  const url = `${c.authorize()}?${new URLSearchParams({
    client_id: c.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid offline_access',
    code_challenge: challenge.toString('base64url'),
    code_challenge_method: 'S256',
  })}`;
  return expectPage(await browser.open(url));
}

const LOCKED = /AADSTS50053/;

describe.each(cases)('smart lockout ($name)', (c) => {
  it('locks one account after the threshold, lets others in, and unlocks after the lockout', async () => {
    const browser = new HttpBrowser(t.azure.identityUrl);
    let page = await signInPage(c, browser);
    const attempt = async (email: string, password: string) =>
      (page = expectPage(await browser.submit(page, { email, password })));

    // The same wrong password repeated counts once: no lock yet.
    for (let i = 0; i < 4; i++) await attempt(c.victim.email, 'Wrong-Passw0rd-1');
    expect(page.html).not.toMatch(LOCKED);
    await attempt(c.victim.email, 'Wrong-Passw0rd-2');
    expect(page.html).not.toMatch(LOCKED);
    await attempt(c.victim.email.toUpperCase(), 'Wrong-Passw0rd-3'); // the name, case aside
    expect(page.html).toMatch(LOCKED);

    // Locked: the right password does not pass either.
    await attempt(c.victim.email, c.victim.password);
    expect(page.html).toMatch(LOCKED);

    // Another account of the same tenant signs in meanwhile.
    const other = new HttpBrowser(t.azure.identityUrl);
    const otherPage = await signInPage(c, other);
    expect(
      expectRedirect(
        await other.submit(otherPage, {
          email: c.bystander.email,
          password: c.bystander.password,
        }),
      ).searchParams.get('code'),
    ).toBeTruthy();

    await new Promise((r) => setTimeout(r, LOCK_SECONDS * 1000 + 1100));
    const back = expectRedirect(
      await browser.submit(page, { email: c.victim.email, password: c.victim.password }),
    );
    expect(back.searchParams.get('code')).toBeTruthy();
  });

  it('locks an unknown sign-in name the same way (no hint which names exist)', async () => {
    const browser = new HttpBrowser(t.azure.identityUrl);
    let page = await signInPage(c, browser);
    for (const password of ['Nope-1aaaaa', 'Nope-2aaaaa', 'Nope-3aaaaa'])
      page = expectPage(await browser.submit(page, { email: 'nobody@contoso.example', password }));
    expect(page.html).toMatch(LOCKED);
  });
});
