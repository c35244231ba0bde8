import { RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { STREAMS, type StreamName } from './contract';

/** Creates (or updates) the JetStream streams a service publishes to. Idempotent. */
export async function ensureStreams(jsm: JetStreamManager, names: StreamName[]): Promise<void> {
  for (const n of names) {
    const def = STREAMS[n];
    const config = {
      name: def.name,
      subjects: [...def.subjects],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: 7 * 24 * 3600 * 1e9,
      duplicate_window: 2 * 60 * 1e9,
    };
    try {
      await jsm.streams.info(def.name);
      await jsm.streams.update(def.name, config);
    } catch {
      await jsm.streams.add(config);
    }
  }
}
