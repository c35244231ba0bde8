import { publishEvent, TokensIssued } from '@idp/contracts';
import type { JetStreamClient } from 'nats';
import { createHash, randomUUID } from 'node:crypto';

export interface Issuance {
  caller: string;
  registration: string;
  scope: string;
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
  cache: 'hit' | 'miss';
}

/** SHA-256 (hex) of the token's `uti` (Entra) or `jti`: the audit trail never holds the token. */
export function tokenIdHash(accessToken: string): string {
  let id: string | undefined;
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    id = typeof payload.uti === 'string' ? payload.uti : typeof payload.jti === 'string' ? payload.jti : undefined;
  } catch {
    id = undefined;
  }
  return createHash('sha256').update(id ?? accessToken).digest('hex');
}

/** Publishes `tokens.issued.v1` to JetStream (stream TOKENS) for every token handed out. */
export class AuditPublisher {
  private pending = new Set<Promise<void>>();
  // Cache hits repeat the same few tokens: hash each once.
  private readonly hashes = new Map<string, string>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly onFailure: (e: unknown) => void,
  ) {}

  /** Does not delay the reply; failures are counted, never thrown at the caller. */
  record(i: Issuance): void {
    const eventId = randomUUID();
    const p = publishEvent(
      this.js,
      TokensIssued,
      {
        eventId,
        caller: i.caller,
        registration: i.registration,
        scope: i.scope,
        tokenIdHash: this.hashOf(i.accessToken),
        expiresOn: i.expiresOn,
        cache: i.cache,
        occurredAt: new Date().toISOString(),
      },
      eventId,
    ).catch(this.onFailure);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private hashOf(token: string): string {
    let h = this.hashes.get(token);
    if (h === undefined) {
      if (this.hashes.size >= 256) this.hashes.clear();
      h = tokenIdHash(token);
      this.hashes.set(token, h);
    }
    return h;
  }

  /** Waits for in-flight publishes (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
