import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import type { CookieJarClient } from './portal-client';

/** Alice, a demo account of the B2C stand-in. */
export const B2C_ALICE = { email: 'alice@contoso.example', password: 'Alice-dev-Passw0rd!' };

/**
 * Signs Alice in through the B2C stand-in with a fresh browser, starting at `start`: afterwards
 * `jar` holds her session. Returns the callback URL (portal-relative) and the portal's answer to it.
 */
export async function signInThroughB2c(
  identityUrl: string,
  jar: CookieJarClient,
  start = '/auth/sign-in',
): Promise<{ callback: string; landed: Awaited<ReturnType<CookieJarClient['get']>> }> {
  const b2c = new HttpBrowser(identityUrl);
  const page = expectPage(await b2c.open(String((await jar.get(start)).headers.location)));
  const back = expectRedirect(await b2c.submit(page, B2C_ALICE));
  const callback = `${back.pathname}${back.search}`;
  return { callback, landed: await jar.get(callback) };
}
