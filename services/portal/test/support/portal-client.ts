// Requests to an in-process portal with the session cookie, and reading back the cookie it sets.
import type { LightMyRequestResponse } from 'fastify';
import type { InProcessPortal } from './portal-app';

export const COOKIE = '__Host-portal_sid';

export interface PortalClient {
  get(url: string, cookie?: string): Promise<LightMyRequestResponse>;
  post(
    url: string,
    form: Record<string, string>,
    cookie?: string,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

/** `portal` is a getter: suites start their portal in beforeAll. */
export function portalClient(portal: () => InProcessPortal): PortalClient {
  const cookieHeader = (cookie?: string): Record<string, string> =>
    cookie ? { cookie: `${COOKIE}=${cookie}` } : {};
  return {
    get: (url, cookie) =>
      portal().fastify.inject({ method: 'GET', url, headers: cookieHeader(cookie) }),
    post: (url, form, cookie, headers = {}) =>
      portal().fastify.inject({
        method: 'POST',
        url,
        payload: new URLSearchParams(form).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...cookieHeader(cookie),
          ...headers,
        },
      }),
  };
}

/** The session cookie a response sets (throws when it sets none). */
export function sessionCookie(res: LightMyRequestResponse): { value: string; raw: string } {
  const all = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const raw = all.find((c) => c.startsWith(`${COOKIE}=`));
  if (!raw) throw new Error(`no session cookie in ${JSON.stringify(all)}`);
  return { value: raw.slice(COOKIE.length + 1).split(';')[0] ?? '', raw };
}

/** A browser-like client: every request sends the session cookie the portal last set. */
export interface CookieJarClient {
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, form: Record<string, string>): Promise<LightMyRequestResponse>;
  /** The session cookie's current value ('' before the portal set one). */
  cookie(): string;
}

export function cookieJarClient(portal: () => InProcessPortal): CookieJarClient {
  const client = portalClient(portal);
  let cookie = '';
  const keep = (res: LightMyRequestResponse): LightMyRequestResponse => {
    const set = ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith(`${COOKIE}=`));
    if (set) cookie = set.slice(COOKIE.length + 1).split(';')[0] ?? '';
    return res;
  };
  return {
    get: async (url) => keep(await client.get(url, cookie || undefined)),
    post: async (url, form) => keep(await client.post(url, form, cookie || undefined)),
    cookie: () => cookie,
  };
}
