import { randomUUID } from 'node:crypto';
import type { EventContract, EventOf } from '@idp/contracts';
import { stageEvent } from '@idp/service-kit';
import type { Tx } from '../db/prisma.service';

/** Stages an event in the outbox inside the change's Prisma transaction. */
export async function stage<C extends EventContract>(
  tx: Tx,
  contract: C,
  event: Omit<EventOf<C>, 'eventId' | 'occurredAt'>,
): Promise<void> {
  const q = { query: (sql: string, params: unknown[]) => tx.$executeRawUnsafe(sql, ...params) };
  await stageEvent(q, contract, {
    ...event,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
  } as unknown as EventOf<C> & { eventId: string });
}
