import { Logger } from '@nestjs/common';
import {
  ContractViolation,
  contractHeaders,
  encodeEvent,
  traceContextFrom,
  type EventContract,
  type EventOf,
  type TraceContext,
} from '@idp/contracts';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Pool, PoolClient } from 'pg';
import { withMessageSpan } from '../telemetry/spans';

/**
 * Relay of the transactional outbox (rows staged by `OutboxWriter` in the change's transaction):
 * publishes pending rows to JetStream. The JetStream message id is the row id, so a crash between
 * publish and mark only yields a duplicate that JetStream's dedupe window drops. Each event is
 * published in a PRODUCER span that is a child of the request that staged the row.
 * Rows go out in staging order, a batch at a time: the batch's publishes are pipelined on the one
 * NATS connection (JetStream stores them in that order) and marked with one UPDATE. When a publish
 * fails (NATS down), the acknowledged rows are marked and the others retried on the next tick.
 */
const PARKED_PREFIX = 'parked: ';
const NOT_PARKED = `(last_error IS NULL OR last_error NOT LIKE '${PARKED_PREFIX}%')`;

export interface OutboxRelayOptions {
  pool: Pool;
  js: () => JetStreamClient;
  contracts: readonly EventContract[];
  intervalMs?: number;
  batchSize?: number;
}

interface OutboxRow {
  id: string;
  subject: string;
  payload: unknown;
  trace_context: unknown;
}

interface Sendable {
  row: OutboxRow;
  contract: EventContract;
  data: Uint8Array;
}

export class OutboxRelay {
  private readonly log = new Logger('outbox');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;
  private readonly bySubject: Map<string, EventContract>;

  constructor(private readonly o: OutboxRelayOptions) {
    this.bySubject = new Map(o.contracts.map((c) => [c.subject, c]));
  }

  start(): void {
    this.stopped = false;
    const tick = async (): Promise<void> => {
      await this.flush().catch(() => undefined);
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.o.intervalMs ?? 250);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Publishes pending events once; returns how many were published. Serialised per process. */
  flush(): Promise<number> {
    this.running ??= this.publishPending().finally(() => (this.running = undefined));
    return this.running;
  }

  async pending(): Promise<number> {
    const r = await this.o.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM outbox WHERE published_at IS NULL AND ${NOT_PARKED}`,
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Rows that can never be published (no contract, or a payload that breaks it): kept for an operator. */
  async parked(): Promise<number> {
    const r = await this.o.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM outbox WHERE published_at IS NULL AND NOT ${NOT_PARKED}`,
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  private async publishPending(): Promise<number> {
    let published = 0;
    const client: PoolClient = await this.o.pool.connect();
    try {
      for (;;) {
        await client.query('BEGIN');
        // SKIP LOCKED lets several replicas relay in parallel without sending a row twice.
        const { rows } = await client.query<OutboxRow>(
          `SELECT id, subject, payload, trace_context FROM outbox WHERE published_at IS NULL AND ${NOT_PARKED}
           ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [this.o.batchSize ?? 100],
        );
        if (rows.length === 0) {
          await client.query('COMMIT');
          return published;
        }
        const sendable = await this.parkUnpublishable(client, rows);
        // Pipelined: every publish of the batch is on the wire before the first ack is awaited
        // (one socket write, in row order, instead of a round trip per row).
        const outcomes = await Promise.allSettled(sendable.map((s) => this.publishRow(s)));
        const done: string[] = [];
        const refused: string[] = [];
        let reason: unknown;
        sendable.forEach(({ row }, i) => {
          const o = outcomes[i];
          if (o?.status === 'fulfilled') done.push(row.id);
          else {
            refused.push(row.id);
            reason ??= o?.reason;
          }
        });
        if (done.length > 0)
          await client.query(
            'UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::uuid[])',
            [done],
          );
        published += done.length;
        if (refused.length > 0) {
          const msg = reason instanceof Error ? reason.message : String(reason);
          await client.query(
            'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::uuid[])',
            [refused, msg.slice(0, 500)],
          );
          await client.query('COMMIT');
          this.log.warn(`publish deferred for ${refused.length} outbox row(s): ${msg}`);
          return published; // NATS is likely down: retry on the next tick
        }
        await client.query('COMMIT');
        // Between batches (each committed whole): stop() must not wait for a whole backlog, the
        // rest goes out on the next start.
        if (this.stopped) return published;
      }
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Encodes each row against its contract; a row that never can be is parked (and skipped). */
  private async parkUnpublishable(client: PoolClient, rows: OutboxRow[]): Promise<Sendable[]> {
    const out: Sendable[] = [];
    for (const row of rows) {
      const c = this.bySubject.get(row.subject);
      try {
        if (!c) throw new Error(`no contract for subject ${row.subject}`);
        out.push({ row, contract: c, data: encodeEvent(c, row.payload as EventOf<typeof c>) });
      } catch (e) {
        // Retrying can never fix this row; park it so it does not hold up the rows behind it.
        const why = e instanceof ContractViolation || e instanceof Error ? e.message : String(e);
        await client.query(
          'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1',
          [row.id, `${PARKED_PREFIX}${why}`.slice(0, 500)],
        );
        this.log.error(`outbox row ${row.id} parked: it cannot be published (${row.subject})`);
      }
    }
    return out;
  }

  private publishRow({ row, contract, data }: Sendable): Promise<unknown> {
    return this.publish(
      contract,
      data,
      row.id,
      traceContextFrom(row.trace_context as TraceContext | null),
    );
  }

  /** A PRODUCER span, child of the request that staged the row; its context travels in the headers. */
  private publish(
    c: EventContract,
    data: Uint8Array,
    id: string,
    staged: TraceContext,
  ): Promise<unknown> {
    const attributes = {
      'messaging.destination.name': c.subject,
      'messaging.operation.type': 'publish',
      'messaging.message.id': id,
    };
    return withMessageSpan('producer', `publish ${c.subject}`, staged, attributes, (trace) =>
      this.o.js().publish(c.subject, data, {
        msgID: id,
        headers: contractHeaders(c, {}, trace),
        timeout: 2000,
      }),
    );
  }
}
