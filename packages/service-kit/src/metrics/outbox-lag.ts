import { Gauge } from 'prom-client';
import type { Pool } from 'pg';
import { metricOnce } from './registry';

// Mirrors outbox.ts: parked rows (never publishable, kept for an operator) are counted apart,
// so one poison event does not hold the lag alert on forever.
const PARKED = `last_error LIKE 'parked: %'`;

const pools = new Set<Pool>();

async function sample(pool: Pool): Promise<{ age: number; parked: number }> {
  const r = await pool.query<{ age: number | null; parked: number }>(
    `SELECT EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE NOT coalesce(${PARKED}, false)))::float8 AS age,
            count(*) FILTER (WHERE coalesce(${PARKED}, false))::int AS parked
       FROM outbox WHERE published_at IS NULL`,
  );
  return { age: Math.max(0, r.rows[0]?.age ?? 0), parked: r.rows[0]?.parked ?? 0 };
}

/** Read at scrape time, so the value is as fresh as the scrape and costs nothing between scrapes. */
const gauges = () => {
  const lag = metricOnce(
    'outbox_oldest_pending_age_seconds',
    () =>
      new Gauge({
        name: 'outbox_oldest_pending_age_seconds',
        help: 'Age of the oldest outbox event not yet published to NATS (0 when none is pending)',
        async collect() {
          let age = 0;
          let parked = 0;
          for (const pool of pools) {
            const s = await sample(pool).catch(() => undefined);
            if (!s) continue;
            age = Math.max(age, s.age);
            parked += s.parked;
          }
          this.set(age);
          parkedGauge.set(parked);
        },
      }),
  );
  const parkedGauge = metricOnce(
    'outbox_parked_events',
    () =>
      new Gauge({
        name: 'outbox_parked_events',
        help: 'Outbox events that can never be published (no contract or a broken payload), kept for an operator',
      }),
  );
  return lag;
};

/** Reports the outbox lag of `pool`'s database while registered. */
export function trackOutboxLag(pool: Pool): () => void {
  gauges();
  pools.add(pool);
  return () => pools.delete(pool);
}
