import type { EventContract } from '@idp/contracts';
import { OutboxWriter, type NewEvent, type OutboxRow } from '@idp/service-kit';

export type { OutboxRow };

const writer = new OutboxWriter();

/** An outbox row for an event, validated now, for a statement that writes it with the change. */
export function outboxRow<C extends EventContract>(contract: C, event: NewEvent<C>): OutboxRow {
  return writer.row(contract, event);
}
