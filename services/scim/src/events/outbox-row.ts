import { randomUUID } from 'node:crypto';
import { encodeEvent, type EventContract, type EventOf } from '@idp/contracts';
import { outboxTraceContext } from '@idp/service-kit';

export interface OutboxRow {
  id: string;
  subject: string;
  payload: string;
  /** `trace_context` column: the W3C context of the request that caused the event (or null). */
  traceContext: string | null;
}

/**
 * An outbox row for an event, validated against its contract now (as service-kit's stageEvent does),
 * so the caller can insert it in the same SQL statement as the change it records.
 */
export function outboxRow<C extends EventContract>(
  contract: C,
  event: Omit<EventOf<C>, 'eventId' | 'occurredAt'>,
): OutboxRow {
  const full = {
    ...event,
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
  } as unknown as EventOf<C> & { eventId: string };
  encodeEvent(contract, full); // throws ContractViolation before anything is written
  return {
    id: full.eventId,
    subject: contract.subject,
    payload: JSON.stringify(full),
    traceContext: outboxTraceContext(),
  };
}
