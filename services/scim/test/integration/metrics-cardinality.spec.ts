import { randomBytes } from 'node:crypto';
import { startScim, type ScimTestApp } from '../support/scim-app';

/** The `directory` label values of scim_directory_requests_total in a scrape. */
function directoryLabels(metrics: string): Set<string> {
  return new Set(
    [...metrics.matchAll(/^scim_directory_requests_total\{directory="([^"]*)"/gm)].map(
      (m) => m[1] ?? '',
    ),
  );
}

describe('metrics: label values a caller cannot choose', () => {
  let s: ScimTestApp;
  beforeAll(async () => {
    s = await startScim();
  });
  afterAll(() => s.close());

  it('scim_directory_requests_total names only directories of authenticated tokens; requests to made-up directories are `unauthenticated`', async () => {
    const token = await s.directory('known-dir');
    expect((await s.request('GET', '/known-dir/scim/v2/Users', { token })).status).toBe(200);
    const made = Array.from({ length: 50 }, () => `dir-${randomBytes(6).toString('hex')}`);
    for (const [i, dir] of made.entries()) {
      // No token, a token-shaped garbage token, and a real token of another directory.
      const r = await s.request('GET', `/${dir}/scim/v2/Users`, {
        ...(i % 3 === 1 ? { token: 'eyJnotreal.eyJnotreal.sig' } : {}),
        ...(i % 3 === 2 ? { token } : {}),
      });
      expect(r.status).toBe(401);
    }
    const labels = directoryLabels((await s.request('GET', '/metrics')).text);
    expect(labels).toContain('known-dir');
    expect(labels).toContain('unauthenticated');
    expect(made.filter((d) => labels.has(d))).toEqual([]);
  });
});
