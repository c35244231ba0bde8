// Reading what the services published to JetStream, as a consumer would see it.
import type { StreamName } from '@idp/contracts';
import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** Every message currently in the stream, oldest first. */
export async function readStream(nc: NatsConnection, stream: StreamName): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  if (state.messages === 0) return out;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m) out.push(m); // null: a deleted sequence
  }
  return out;
}

/** Polls the stream until `done(messages)` holds (outbox relays publish asynchronously). */
export async function waitForStream(
  nc: NatsConnection,
  stream: StreamName,
  done: (msgs: StoredMsg[]) => boolean,
  timeoutMs = 20_000,
): Promise<StoredMsg[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const msgs = await readStream(nc, stream);
    if (done(msgs)) return msgs;
    if (Date.now() > deadline)
      throw new Error(
        `stream ${stream} did not reach the expected state; it holds: ${msgs.map((m) => m.subject).join(', ') || 'nothing'}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
