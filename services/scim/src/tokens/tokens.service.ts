import { ConflictException, Inject, Injectable, NotFoundException, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Actor } from '../admin/audit.repository';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import {
  TokenInvalidationListener,
  type Invalidation,
  type InvalidationTarget,
} from './token-invalidation';
import { TokenExpiryService } from './token-expiry.service';
import { TokensRepository } from './tokens.repository';
import { hashToken, newTokenSecret, sameHash } from './token-secret';

export interface TokenView {
  id: string;
  directoryId: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

export interface AuthenticatedToken {
  tokenId: string;
  directoryId: string;
}

const DAY = 86_400_000;
/**
 * Cached lookups keep the hot path off the database. A revocation clears the entry at once in this
 * process and, through TokenInvalidationListener, in every other one (the TTL bounds it when that
 * channel is down).
 */
const CACHE_MS = 5000;
const LAST_USED_EVERY_MS = 60_000;

@Injectable()
export class TokensService implements InvalidationTarget {
  private readonly cache = new Map<
    string,
    { t: AuthenticatedToken & { hash: string; expiresAt: number; revoked: boolean }; until: number }
  >();
  private readonly lastUsedWritten = new Map<string, number>();
  /** Bumped by every revocation: a lookup that read the row before it must not cache what it read. */
  private revocations = 0;

  constructor(
    private readonly repo: TokensRepository,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
    // Absent in the CLI, which has no metrics to keep.
    @Optional() private readonly expiry?: TokenExpiryService,
    // Absent in the CLI, which caches nothing.
    @Optional() listener?: TokenInvalidationListener,
  ) {
    listener?.register(this);
  }

  /** Drops cached lookups of a revoked token, of a changed or deleted directory, or all of them. */
  invalidate(what: Invalidation | undefined): void {
    this.revocations++;
    if (what === undefined) return this.cache.clear();
    for (const [hash, hit] of this.cache)
      if (
        'tokenId' in what ? hit.t.tokenId === what.tokenId : hit.t.directoryId === what.directoryId
      )
        this.cache.delete(hash);
  }

  /** The token gauges follow a creation or revocation at once; a failure waits for the next check. */
  private refreshMetrics(): void {
    void this.expiry?.refreshMetrics().catch(() => undefined);
  }

  /** Creates a token; the secret is returned once and never stored. */
  async create(
    directoryId: string,
    name: string,
    lifetimeDays?: number,
    now = new Date(),
    actor: Actor = 'system:internal',
  ): Promise<{ token: string; view: TokenView }> {
    const secret = newTokenSecret();
    const r = await this.repo.createWithinCap(
      {
        id: randomUUID(),
        directoryId,
        name,
        hash: hashToken(secret),
        createdAt: now,
        expiresAt: new Date(
          now.getTime() + (lifetimeDays ?? this.config.SCIM_TOKEN_LIFETIME_DAYS) * DAY,
        ),
      },
      (maxTokens) => maxTokens ?? this.config.SCIM_MAX_TOKENS_PER_DIRECTORY,
      actor,
    );
    if ('missing' in r) throw new NotFoundException('Directory not found');
    if (!('created' in r))
      throw new ConflictException(
        `The directory already has ${r.live} active tokens (cap ${r.cap}); revoke one first`,
      );
    this.refreshMetrics();
    return { token: secret, view: this.view(r.created, now) };
  }

  async list(directoryId: string, now = new Date()): Promise<TokenView[]> {
    const rows = await this.repo.listByDirectory(directoryId);
    return rows.map((r) => this.view(r, now));
  }

  /** Revokes the token (idempotent); the directory's existence is the caller's check. */
  async revoke(
    directoryId: string,
    id: string,
    actor: Actor = 'system:internal',
  ): Promise<TokenView> {
    const row = await this.repo.findInDirectory(directoryId, id);
    if (!row) throw new NotFoundException('Token not found');
    const updated = row.revokedAt ? row : await this.repo.revoke(id, new Date(), actor);
    this.invalidate({ tokenId: row.id });
    // Deleted meanwhile (with its directory): not the row read before, shown as active.
    if (!updated) throw new NotFoundException('Token not found');
    this.refreshMetrics();
    return this.view(updated);
  }

  /** The token's directory, or undefined when unknown, expired or revoked. */
  async authenticate(secret: string, now = Date.now()): Promise<AuthenticatedToken | undefined> {
    const hash = hashToken(secret);
    let hit = this.cache.get(hash);
    if (!hit || hit.until <= now) {
      const epoch = this.revocations;
      const row = await this.repo.findByHash(hash);
      if (!row) return undefined;
      hit = {
        t: {
          tokenId: row.id,
          directoryId: row.directoryId,
          hash: row.hash,
          expiresAt: row.expiresAt.getTime(),
          revoked: row.revokedAt !== null,
        },
        until: now + CACHE_MS,
      };
      // A revocation committed while this row was read: the row may predate it, so it is used
      // for this request (concurrent with the revocation) but not cached for later ones.
      if (epoch === this.revocations) {
        this.cache.set(hash, hit);
        if (this.cache.size > 10_000) this.cache.clear();
      }
    }
    const t = hit.t;
    if (!sameHash(t.hash, hash) || t.revoked || t.expiresAt <= now) return undefined;
    this.touch(t.tokenId, now);
    return { tokenId: t.tokenId, directoryId: t.directoryId };
  }

  /** last_used_at, written at most once a minute per token so every request does not write. */
  private touch(id: string, now: number): void {
    if ((this.lastUsedWritten.get(id) ?? 0) + LAST_USED_EVERY_MS > now) return;
    this.lastUsedWritten.set(id, now);
    void this.repo.touch(id, new Date(now)).catch(() => undefined);
  }

  private view(
    r: {
      id: string;
      directoryId: string;
      name: string;
      createdAt: Date;
      lastUsedAt: Date | null;
      expiresAt: Date;
      revokedAt: Date | null;
    },
    now = new Date(),
  ): TokenView {
    return {
      id: r.id,
      directoryId: r.directoryId,
      name: r.name,
      createdAt: r.createdAt.toISOString(),
      lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
      expiresAt: r.expiresAt.toISOString(),
      revokedAt: r.revokedAt?.toISOString() ?? null,
      status: r.revokedAt ? 'revoked' : r.expiresAt <= now ? 'expired' : 'active',
    };
  }
}
