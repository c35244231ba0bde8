// The session store's database down (refused, stalled, or lost under a request): a signed-in page
// and a form post end on the 503 error page with Retry-After, never a 500, a hang past the connect
// deadline or the database's message; one warning is logged; a form whose session cannot be read
// sends nothing on; the session is intact once the database is back.
import {
  expectPage,
  expectRedirect,
  HttpBrowser,
} from '../../../../dev-azure/test/support/http-browser';
import { PG_POOL } from '@idp/service-kit';
import type { LightMyRequestResponse } from 'fastify';
import type { Pool } from 'pg';
import { PORTAL_LOG, type Logger } from '../../src/log';
import { SessionStore } from '../../src/session/session-store';
import { B2C_ALICE } from '../support/b2c-sign-in';
import { cookieJarClient } from '../support/portal-client';
import { portalEnv } from '../support/portal-env';
import { usePortalStack } from '../support/portal-stack';
import { startRecordingApi } from '../support/recording-api';
import { holdNextLoad } from '../support/session-gate';
import { TcpHop } from '@idp/testing';

let hop: TcpHop;
const stack = usePortalStack({
  startApi: () =>
    startRecordingApi({
      policy: { policyNumber: 'PN0000000031' },
      record: () => ({}),
      gate: () => undefined,
    }),
  env: (identityUrl, apiUrl) => portalEnv({ b2cHost: identityUrl, policyApiUrl: apiUrl }),
  databaseUrl: (url) => {
    hop = new TcpHop(Number(new URL(url).port));
    return hop.route(url);
  },
});
afterAll(async () => {
  await hop?.close();
});

const jar = cookieJarClient(() => stack.portal);
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const etagOf = (html: string) =>
  (/name="etag" value="([^"]*)"/.exec(html)?.[1] ?? '').replace(/&quot;/g, '"');
const puts = () => stack.api.calls.filter((c) => c.method === 'PUT');

beforeAll(async () => {
  const start = await jar.get('/auth/sign-in');
  const b2c = new HttpBrowser(stack.azure.identityUrl);
  const page = expectPage(await b2c.open(String(start.headers.location)));
  const back = expectRedirect(await b2c.submit(page, B2C_ALICE));
  expect((await jar.get(`${back.pathname}${back.search}`)).statusCode).toBe(303);
});

const CONNECT_DEADLINE_MS = 10_000;
let warn: jest.SpyInstance;
let error: jest.SpyInstance;
beforeEach(() => {
  const log = stack.portal.app.get<Logger>(PORTAL_LOG);
  warn = jest.spyOn(log, 'warn');
  error = jest.spyOn(log, 'error');
});
afterEach(() => jest.restoreAllMocks());

const form = async () => {
  const r = await jar.get('/policy/beneficiaries');
  expect(r.statusCode).toBe(200);
  return { _csrf: csrfOf(r.body), etag: etagOf(r.body) };
};
const row = { name1: 'Someone', relationship1: 'spouse', share1: '100' };

function expectUnavailablePage(r: LightMyRequestResponse, message: RegExp) {
  expect([r.statusCode, r.headers['retry-after']]).toEqual([503, '5']);
  expect(r.body).toContain('<h1>Temporarily unavailable</h1>');
  expect(r.body).toMatch(message);
  expect(r.body).not.toMatch(/ECONN|reach database|127\.0\.0\.1|postgres|terminated/i);
  // The browser keeps its session: nothing cleared or replaced.
  expect(r.headers['set-cookie']).toBeUndefined();
}
/** One warning per refused request, with a reason and nothing of the connection; no error logged. */
function expectWarned(times: number) {
  const calls = warn.mock.calls.filter(
    (c: unknown[]) => c[1] === 'session database unavailable: answered 503',
  );
  expect(calls).toHaveLength(times);
  for (const [fields] of calls as [Record<string, unknown>][]) {
    expect(Object.keys(fields).sort()).toEqual(['reason', 'reqId']);
    expect(String(fields.reason)).not.toMatch(/127\.0\.0\.1|postgres/);
  }
  expect(error).not.toHaveBeenCalled();
}

it('database refused: a signed-in page and a form post answer the 503 page; the form sends nothing; all works once it is back', async () => {
  const fields = await form();
  await hop.refuse();
  try {
    expectUnavailablePage(await jar.get('/policy'), /try again in a moment/);
    expectUnavailablePage(
      await jar.post('/policy/beneficiaries', { ...fields, ...row }),
      /try again in a moment/,
    );
    expect(puts()).toHaveLength(0);
    expectWarned(2);
  } finally {
    await hop.accept();
  }
  // Still signed in, and the same form now saves.
  const saved = await jar.post('/policy/beneficiaries', { ...(await form()), ...row });
  expect([saved.statusCode, saved.headers.location]).toEqual([303, '/policy']);
  expect(puts()).toHaveLength(1);
  expect((await jar.get('/policy')).body).toContain('Your beneficiaries were updated.');
});

it('database stalled (connections never answered): the 503 page within the connect deadline', async () => {
  hop.stalled = true;
  hop.cut();
  // The pooled connections are gone: the next request must open one, and gets no answer.
  const pool = stack.portal.app.get<Pool>(PG_POOL);
  while (pool.totalCount > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  try {
    const started = Date.now();
    expectUnavailablePage(await jar.get('/policy'), /try again in a moment/);
    expect(Date.now() - started).toBeLessThan(CONNECT_DEADLINE_MS + 3000);
    expectWarned(1);
  } finally {
    hop.stalled = false;
  }
  expect((await jar.get('/policy')).statusCode).toBe(200);
}, 30_000);

it('database lost after the session was read: the 503 page says the change may be done and to check before retrying', async () => {
  const fields = await form();
  const held = holdNextLoad(stack.portal.app.get(SessionStore), jar.cookie());
  const before = puts().length;
  const posting = jar.post('/policy/beneficiaries', { ...fields, ...row, name1: 'Another' });
  await held.loaded;
  await hop.refuse();
  try {
    held.release();
    const r = await posting;
    // The policy API took the change; only the session (its flash message) could not be written.
    expect(puts()).toHaveLength(before + 1);
    expectUnavailablePage(r, /could not confirm that your request went through/);
    expectWarned(1);
  } finally {
    await hop.accept();
  }
  expect((await jar.get('/policy')).statusCode).toBe(200);
});
