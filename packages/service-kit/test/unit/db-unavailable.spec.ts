import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import {
  databaseUnavailableReason,
  isDatabaseUnavailable,
  isStatementTimeout,
} from '../../src/db/pool';

// The errors a service really gets when PostgreSQL cannot be reached: provoked here through a
// real pg Pool against sockets that refuse, stall or drop, and, for Prisma 7 with
// @prisma/adapter-pg (not a dependency of this package), the shapes it wrapped the same failures
// in, as captured from @prisma/client 7.10.1 (policy-api's integration tests provoke them for real).

/** A TCP server on loopback; `onSocket` decides what a database "answers". */
async function fakeServer(
  onSocket: (s: Socket) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => s.destroy());
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `postgresql://app:secret@127.0.0.1:${port}/app`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function errorOf(
  url: string,
  o: { max?: number; parallel?: number } = {},
): Promise<unknown[]> {
  const pool = new Pool({ connectionString: url, max: o.max ?? 1, connectionTimeoutMillis: 300 });
  pool.on('error', () => undefined);
  try {
    const results = await Promise.allSettled(
      Array.from({ length: o.parallel ?? 1 }, () => pool.query('SELECT 1')),
    );
    return results.map((r) => (r.status === 'rejected' ? (r.reason as unknown) : 'no error'));
  } finally {
    await pool.end();
  }
}

describe('isDatabaseUnavailable: errors pg really raises', () => {
  it('a refused connection (database down, restarting)', async () => {
    const server = await fakeServer(() => undefined);
    await server.close(); // the port is closed now
    const [e] = await errorOf(server.url);
    expect(e).toMatchObject({ code: 'ECONNREFUSED' });
    expect(databaseUnavailableReason(e)).toBe('ECONNREFUSED');
  });

  it('a host name that does not resolve', async () => {
    const [e] = await errorOf('postgresql://app@no-such-host.invalid:5432/app');
    expect(e).toMatchObject({ code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });
    expect(isDatabaseUnavailable(e)).toBe(true);
  });

  it('a server that accepts and never answers (stuck failover), and the queries queued behind it', async () => {
    const server = await fakeServer((s) => s.resume());
    try {
      const [first, queued] = await errorOf(server.url, { max: 1, parallel: 2 });
      expect(first).toMatchObject({ message: 'Connection terminated due to connection timeout' });
      expect(queued).toMatchObject({ message: 'timeout exceeded when trying to connect' });
      expect(isDatabaseUnavailable(first)).toBe(true);
      expect(isDatabaseUnavailable(queued)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('a connection dropped by the server (network cut, crash)', async () => {
    const server = await fakeServer((s) => s.destroy());
    try {
      const [e] = await errorOf(server.url);
      expect(e).toMatchObject({ message: 'Connection terminated unexpectedly' });
      expect(databaseUnavailableReason(e)).toBe('Connection terminated unexpectedly');
    } finally {
      await server.close();
    }
  });

  it('is not fooled by an HTTP call to a host that is down (its socket error is only a cause)', async () => {
    const server = await fakeServer(() => undefined);
    await server.close();
    const port = new URL(server.url).port;
    const e = await fetch(`http://127.0.0.1:${port}/`).then(
      () => 'no error',
      (err: unknown) => err,
    );
    expect(e).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
    expect(isDatabaseUnavailable(e)).toBe(false);
  });

  it('never names the host, user or password in its reason', async () => {
    const server = await fakeServer((s) => s.resume());
    try {
      const [e] = await errorOf(server.url);
      expect(databaseUnavailableReason(e)).not.toMatch(/secret|app|127\.0\.0\.1/);
    } finally {
      await server.close();
    }
  });
});

// As captured from @prisma/client 7.10.1 + @prisma/adapter-pg 7.10.1 (the stack traces left out).
const adapterError = (cause: object) =>
  Object.assign(new Error(String((cause as { kind?: string }).kind)), {
    name: 'DriverAdapterError',
    cause,
  });
const prismaKnown = (code: string, cause: object) =>
  Object.assign(new Error('Invalid `prisma.policy.findFirst()` invocation'), {
    name: 'PrismaClientKnownRequestError',
    code,
    meta: { modelName: 'Policy', driverAdapterError: adapterError(cause) },
    clientVersion: '7.10.1',
  });

describe('isDatabaseUnavailable: the same failures through Prisma 7 and @prisma/adapter-pg', () => {
  it.each([
    [
      'database down (model query)',
      prismaKnown('P1001', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 }),
    ],
    [
      'database down (raw query)',
      prismaKnown('P2010', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 }),
    ],
    ['connection reset', prismaKnown('P1017', { kind: 'ConnectionClosed' })],
    ['socket timeout', prismaKnown('P1008', { kind: 'SocketTimeout' })],
    [
      'too many connections',
      prismaKnown('P2037', {
        originalCode: '53300',
        originalMessage: 'too many connections for role "app"',
        kind: 'TooManyConnections',
        cause: 'too many connections for role "app"',
      }),
    ],
    [
      'server shut down under the query (pg_ctl stop, failover)',
      prismaKnown('P2010', {
        originalCode: '57P01',
        originalMessage: 'terminating connection due to administrator command',
        kind: 'postgres',
        code: '57P01',
        severity: 'FATAL',
        message: 'terminating connection due to administrator command',
      }),
    ],
    [
      'server shutting down',
      prismaKnown('P2010', {
        originalCode: '57P03',
        originalMessage: 'the database system is shutting down',
        kind: 'postgres',
        code: '57P03',
        severity: 'FATAL',
        message: 'the database system is shutting down',
      }),
    ],
    // pg's code-less errors pass through the adapter unchanged; Prisma only adds clientVersion.
    [
      'stalled connect',
      Object.assign(new Error('Connection terminated due to connection timeout'), {
        clientVersion: '7.10.1',
        cause: new Error('Connection terminated unexpectedly'),
      }),
    ],
    [
      'connection lost inside a transaction',
      Object.assign(new Error('Client has encountered a connection error and is not queryable'), {
        clientVersion: '7.10.1',
      }),
    ],
    [
      'initialization',
      Object.assign(new Error("Can't reach database server"), {
        name: 'PrismaClientInitializationError',
        errorCode: 'P1001',
      }),
    ],
  ])('%s', (_what, e) => {
    expect(isDatabaseUnavailable(e)).toBe(true);
  });

  it.each([
    ['08006', 'connection_failure'],
    ['08001', 'sqlclient_unable_to_establish_sqlconnection'],
    ['57P02', 'crash_shutdown'],
    ['53300', 'too_many_connections'],
  ])('SQLSTATE %s (%s), from pg or wrapped by Prisma', (code) => {
    expect(isDatabaseUnavailable({ code, severity: 'FATAL' })).toBe(true);
    expect(
      isDatabaseUnavailable(prismaKnown('P2010', { kind: 'postgres', originalCode: code, code })),
    ).toBe(true);
  });

  it.each([
    ['unique violation', { code: '23505' }],
    ['statement timeout (its own 503)', { code: '57014' }],
    ['deadlock', { code: '40P01' }],
    ['Prisma unique violation', prismaKnown('P2002', { kind: 'UniqueConstraintViolation' })],
    ['Prisma record not found', { name: 'PrismaClientKnownRequestError', code: 'P2025' }],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    [
      'pool used after end (shutdown)',
      new Error('Cannot use a pool after calling end on the pool'),
    ],
    ['nothing', undefined],
  ])('%s is not "unavailable"', (_what, e) => {
    expect(isDatabaseUnavailable(e)).toBe(false);
  });

  it('keeps a statement timeout apart', () => {
    const timeout = prismaKnown('P2010', {
      kind: 'postgres',
      originalCode: '57014',
      code: '57014',
    });
    expect(isStatementTimeout(timeout)).toBe(true);
    expect(isDatabaseUnavailable(timeout)).toBe(false);
  });
});
