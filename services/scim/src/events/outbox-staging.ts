import type { EventContract } from '@idp/contracts';
import { OutboxWriter, prismaSql, type NewEvent } from '@idp/service-kit';
import type { Tx } from '../db/prisma.service';

const writer = new OutboxWriter();

/** Stages an event in the outbox inside the change's Prisma transaction. */
export async function stage<C extends EventContract>(
  tx: Tx,
  contract: C,
  event: NewEvent<C>,
): Promise<void> {
  await writer.stage(prismaSql(tx), contract, event);
}
