import { randomUUID } from 'node:crypto';
import { ScimUserCreated, setTraceContextSource } from '@idp/contracts';
import { OUTBOX_CHUNK, OutboxWriter, prismaSql, type SqlExecutor } from '../../src';

// The writer's row building and SQL, without a database (the integration tier's outbox spec
// runs the same statements against PostgreSQL and NATS).
const writer = new OutboxWriter();
const event = () => ({
  directoryId: 'd1',
  userId: randomUUID(),
  userName: 'marge',
  active: true,
});

function recorder(): SqlExecutor & { calls: { sql: string; params: unknown[] }[] } {
  const calls: { sql: string; params: unknown[] }[] = [];
  return {
    calls,
    query: (sql, params) => {
      calls.push({ sql, params });
      return Promise.resolve();
    },
  };
}

describe('OutboxWriter (no database)', () => {
  it('fills eventId and occurredAt unless given; the event id is the row id', () => {
    const fresh = writer.row(ScimUserCreated, event());
    const payload = JSON.parse(fresh.payload) as { eventId: string; occurredAt: string };
    expect(fresh.id).toBe(payload.eventId);
    expect(Number.isNaN(Date.parse(payload.occurredAt))).toBe(false);
    expect(fresh.subject).toBe(ScimUserCreated.subject);
    expect(fresh.traceContext).toBeNull();

    const eventId = randomUUID();
    const given = writer.row(ScimUserCreated, {
      ...event(),
      eventId,
      occurredAt: '2026-01-02T03:04:05.000Z',
    });
    expect(given.id).toBe(eventId);
    expect(JSON.parse(given.payload)).toMatchObject({ occurredAt: '2026-01-02T03:04:05.000Z' });
  });

  it('carries the active trace context', () => {
    const traceparent = `00-${'4bf92f3577b34da6a3ce929d0e0e4736'}-${'00f067aa0ba902b7'}-01`;
    setTraceContextSource(() => ({ traceparent }));
    try {
      expect(JSON.parse(writer.row(ScimUserCreated, event()).traceContext ?? 'null')).toEqual({
        traceparent,
      });
    } finally {
      setTraceContextSource(() => ({}));
    }
  });

  it('refuses an event that breaks its contract before writing anything', async () => {
    const tx = recorder();
    await expect(writer.stage(tx, ScimUserCreated, { ...event(), userId: '' })).rejects.toThrow(
      /contract/,
    );
    expect(tx.calls).toEqual([]);
  });

  it('writes any number of rows in one INSERT with numbered parameters, none for none', async () => {
    const tx = recorder();
    const rows = [writer.row(ScimUserCreated, event()), writer.row(ScimUserCreated, event())];
    await writer.write(tx, rows);
    await writer.write(tx, []);
    expect(tx.calls).toHaveLength(1);
    expect(tx.calls[0]?.sql).toBe(
      'INSERT INTO outbox (id, subject, payload, trace_context, created_at) VALUES ' +
        '($1, $2, $3::jsonb, $4::jsonb, clock_timestamp()), ($5, $6, $7::jsonb, $8::jsonb, clock_timestamp())',
    );
    expect(tx.calls[0]?.params).toEqual(
      rows.flatMap((r) => [r.id, r.subject, r.payload, r.traceContext]),
    );
  });

  it('splits a large batch into statements of OUTBOX_CHUNK rows (PostgreSQL allows 65,535 parameters)', async () => {
    const tx = recorder();
    const rows = Array.from({ length: 2 * OUTBOX_CHUNK + 1 }, () =>
      writer.row(ScimUserCreated, event()),
    );
    await writer.write(tx, rows);
    expect(tx.calls.map((c) => c.params.length)).toEqual([4 * OUTBOX_CHUNK, 4 * OUTBOX_CHUNK, 4]);
    expect(tx.calls.flatMap((c) => c.params)).toEqual(
      rows.flatMap((r) => [r.id, r.subject, r.payload, r.traceContext]),
    );
    expect(tx.calls[2]?.sql).toMatch(
      /VALUES \(\$1, \$2, \$3::jsonb, \$4::jsonb, clock_timestamp\(\)\)$/,
    );
  });

  it('gives the CTE step of a one-statement write, parameters numbered from firstParam', () => {
    const r = writer.row(ScimUserCreated, event());
    expect(writer.cteStep('ev', 'ins', 5, r)).toEqual({
      sql: 'ev AS (INSERT INTO outbox (id, subject, payload, trace_context, created_at) SELECT $5, $6, $7::jsonb, $8::jsonb, clock_timestamp() FROM ins)',
      params: [r.id, r.subject, r.payload, r.traceContext],
    });
  });

  it('writes through a Prisma transaction with prismaSql', async () => {
    const seen: unknown[][] = [];
    const tx = prismaSql({
      $executeRawUnsafe: (sql: string, ...values: unknown[]) => {
        seen.push([sql, ...values]);
        return Promise.resolve(1);
      },
    });
    const r = await writer.stage(tx, ScimUserCreated, event());
    expect(seen).toEqual([
      [expect.stringMatching(/^INSERT INTO outbox/), r.id, r.subject, r.payload, null],
    ]);
  });
});
