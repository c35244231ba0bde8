import { randomUUID } from 'node:crypto';
import { activeTraceContext, encodeEvent, type EventContract, type EventOf } from '@idp/contracts';

/**
 * The one place outbox rows are built and written. A repository stages its events through this
 * inside the transaction (or the single statement) that makes the change, so the change and its
 * events commit together; `OutboxRelay` publishes them later.
 *
 * Table (each service's migrations create it):
 *   outbox (id uuid PRIMARY KEY, subject text, payload jsonb, created_at timestamptz DEFAULT now(),
 *           published_at timestamptz, attempts int DEFAULT 0, last_error text, trace_context jsonb)
 *   plus the partial index outbox_pending (created_at) WHERE published_at IS NULL.
 */

/** A validated row: the event's id is the row id and, later, the JetStream message id. */
export interface OutboxRow {
  readonly id: string;
  readonly subject: string;
  /** The event as JSON text (the `payload` jsonb column). */
  readonly payload: string;
  /** The W3C context (traceparent, tracestate) of the request staging the row, as JSON, or null. */
  readonly traceContext: string | null;
}

/** What the writer needs of a transaction: pg's PoolClient, or `prismaSql(tx)`. */
export interface SqlExecutor {
  query(sql: string, params: unknown[]): Promise<unknown>;
}

/** Adapts a Prisma interactive-transaction client to `SqlExecutor`. */
export const prismaSql = (tx: {
  $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number>;
}): SqlExecutor => ({ query: (sql, params) => tx.$executeRawUnsafe(sql, ...params) });

/** An event as a producer hands it over: `eventId` and `occurredAt` are filled in unless given. */
export type NewEvent<C extends EventContract> = Omit<EventOf<C>, 'eventId' | 'occurredAt'> & {
  eventId?: string;
  occurredAt?: string;
};

// created_at is the insert's own clock, not the transaction's start (the column default, now()):
// the relay publishes in created_at order, and a writer that began first but waited on a row lock
// inserts after the writer it waited for committed, so per resource that order is commit order.
const COLUMNS = 'outbox (id, subject, payload, trace_context, created_at)';
/** Rows per INSERT statement. */
export const OUTBOX_CHUNK = 1000;

export class OutboxWriter {
  /**
   * Builds the row for an event: `eventId` (fresh unless given), `occurredAt` (now unless given), the active
   * trace context. Throws ContractViolation before anything is written if the event breaks its
   * contract.
   */
  row<C extends EventContract>(contract: C, event: NewEvent<C>): OutboxRow {
    const full = {
      ...event,
      eventId: event.eventId ?? randomUUID(),
      occurredAt: event.occurredAt ?? new Date().toISOString(),
    } as unknown as EventOf<C> & { eventId: string };
    encodeEvent(contract, full);
    const trace = activeTraceContext();
    return {
      id: full.eventId,
      subject: contract.subject,
      payload: JSON.stringify(full),
      traceContext: trace.traceparent ? JSON.stringify(trace) : null,
    };
  }

  /**
   * Inserts rows on the caller's transaction: one statement per OUTBOX_CHUNK rows (four parameters
   * each, well under PostgreSQL's 65,535 per statement), so any number of events fits.
   */
  async write(tx: SqlExecutor, rows: OutboxRow | readonly OutboxRow[]): Promise<void> {
    const list: readonly OutboxRow[] = Array.isArray(rows) ? rows : [rows as OutboxRow];
    for (let i = 0; i < list.length; i += OUTBOX_CHUNK) {
      const params: unknown[] = [];
      const values = list.slice(i, i + OUTBOX_CHUNK).map((r) => {
        params.push(r.id, r.subject, r.payload, r.traceContext);
        const n = params.length;
        return `($${n - 3}, $${n - 2}, $${n - 1}::jsonb, $${n}::jsonb, clock_timestamp())`;
      });
      await tx.query(`INSERT INTO ${COLUMNS} VALUES ${values.join(', ')}`, params);
    }
  }

  /** `row` then `write`: validates and stages one event on the caller's transaction. */
  async stage<C extends EventContract>(
    tx: SqlExecutor,
    contract: C,
    event: NewEvent<C>,
  ): Promise<OutboxRow> {
    const r = this.row(contract, event);
    await this.write(tx, r);
    return r;
  }

  /**
   * For a change written as one statement (a data-modifying CTE): the CTE step inserting `row`
   * only when the step `after` produced a row, with its four parameters numbered from
   * `firstParam`. The SCIM hot paths use this to commit the change and its event in one round trip.
   */
  cteStep(
    name: string,
    after: string,
    firstParam: number,
    r: OutboxRow,
  ): { sql: string; params: unknown[] } {
    const p = (i: number): string => `$${firstParam + i}`;
    return {
      sql: `${name} AS (INSERT INTO ${COLUMNS} SELECT ${p(0)}, ${p(1)}, ${p(2)}::jsonb, ${p(3)}::jsonb, clock_timestamp() FROM ${after})`,
      params: [r.id, r.subject, r.payload, r.traceContext],
    };
  }
}
