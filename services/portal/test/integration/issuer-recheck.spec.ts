// The tenant check (session.hooks: the ID token's `iss` against the flow's metadata `issuer`)
// reads a cached copy of the metadata, kept an hour. When the provider changes its issuer within
// that hour, tokens issued since carry the new one: the stale copy must be checked again before a
// session is signed out, or every new sign-in would be signed out at its next request.
import { MetadataCache } from '../../src/auth/metadata-cache';
import type { AuthorityMetadata } from '../../src/auth/customer-authority';
import { SessionStore } from '../../src/session/session-store';
import { signInThroughB2c } from '../support/b2c-sign-in';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';

const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000017' },
      record: () => ({}),
      gate: () => undefined,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
});
const jar = cookieJarClient(() => stack.portal);

/** The cache's copies, to make them what they would be had they been fetched before a change. */
const cachedCopies = () =>
  (
    stack.portal.app.get(MetadataCache) as unknown as {
      entries: Map<string, { at: number; json: string; meta: AuthorityMetadata }>;
    }
  ).entries;

beforeAll(async () => {
  await signInThroughB2c(stack.azure.identityUrl, jar);
  expect((await jar.get('/claims')).statusCode).toBe(200);
});

it('a cached issuer older than the session ID token is checked again, not taken for another tenant', async () => {
  const copies = cachedCopies();
  expect(copies.size).toBeGreaterThan(0);
  const current = new Map([...copies].map(([k, e]) => [k, e.meta.issuer]));
  // Fetched ten minutes ago, before the provider's issuer changed to the one in the ID token.
  for (const [k, e] of copies)
    copies.set(k, {
      ...e,
      at: Date.now() - 10 * 60 * 1000,
      meta: { ...e.meta, issuer: 'https://issuer-before-the-change.example/v2.0/' },
    });

  const claims = await jar.get('/claims');
  expect(claims.statusCode).toBe(200);
  const session = (await stack.portal.app.get(SessionStore).load(jar.cookie()))!;
  expect(session.data.user?.oid).toBeTruthy();
  // The copy of the ID token's flow was fetched again: the provider's issuer now.
  const flow = session.data.user!.idTokenFlow.toLowerCase();
  expect(cachedCopies().get(flow)?.meta.issuer).toBe(current.get(flow));
  expect(session.data.user?.claims.iss).toBe(current.get(flow));
});

it('a recent cached issuer that differs is not fetched again per request: the session is signed out', async () => {
  const copies = cachedCopies();
  for (const [k, e] of copies)
    copies.set(k, {
      ...e,
      at: Date.now(),
      meta: { ...e.meta, issuer: 'https://another-tenant.example/v2.0/' },
    });
  const claims = await jar.get('/claims');
  expect(claims.statusCode).toBe(303);
  expect(String(claims.headers.location)).toContain('/auth/sign-in');
});
