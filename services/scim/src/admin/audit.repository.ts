import { Injectable } from '@nestjs/common';
import { PrismaService } from '../db/prisma.service';
import type { Prisma } from '../generated/prisma/client';

/** Who did an admin action: `app:<appId>`, `user:<oid>`, `cli:<os user>` or `system:<job>`. */
export type Actor = string;

export type AuditAction =
  | 'directory.create'
  | 'directory.update'
  | 'directory.delete'
  | 'token.create'
  | 'token.revoke'
  | 'schema.put'
  | 'schema.delete'
  | 'cleanup.purge';

/** One audit record: ids and settings only, never a secret or personal data. */
export interface AuditEntry {
  actor: Actor;
  action: AuditAction;
  directoryId: string | null;
  targetId?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditView {
  id: string;
  at: string;
  actor: string;
  action: string;
  directoryId: string | null;
  targetId: string | null;
  detail: unknown;
}

/** admin_audit: written by the other repositories inside the transaction of the change. */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: PrismaService) {}

  /** Records `e` in the caller's transaction, so the record exists exactly when the change does. */
  static async write(tx: Prisma.TransactionClient, e: AuditEntry): Promise<void> {
    await tx.adminAudit.create({
      data: {
        actor: e.actor,
        action: e.action,
        directoryId: e.directoryId,
        targetId: e.targetId ?? null,
        ...(e.detail ? { detail: e.detail as Prisma.InputJsonObject } : {}),
      },
    });
  }

  /**
   * Deletes the entries recorded before `cutoff`, `batch` per statement (each its own
   * transaction, oldest first through the index on `at`, so a backlog never becomes one statement
   * the statement timeout cancels on every run); returns how many.
   */
  async purgeBefore(cutoff: Date, batch = 5000): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = await this.db.$executeRaw`
        DELETE FROM admin_audit WHERE id IN (
          SELECT id FROM admin_audit WHERE at < ${cutoff} ORDER BY at LIMIT ${batch})`;
      deleted += n;
      if (n < batch) return deleted;
    }
  }

  /** Newest first; `before` is an id (the page holds smaller ones). */
  async page(q: {
    directoryId?: string;
    action?: string;
    before?: bigint;
    limit: number;
  }): Promise<{ items: AuditView[]; next: string | null }> {
    const rows = await this.db.adminAudit.findMany({
      where: {
        ...(q.directoryId !== undefined ? { directoryId: q.directoryId } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.before !== undefined ? { id: { lt: q.before } } : {}),
      },
      orderBy: { id: 'desc' },
      take: q.limit + 1,
    });
    const items = rows.slice(0, q.limit).map((r) => ({
      id: String(r.id),
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      directoryId: r.directoryId,
      targetId: r.targetId,
      detail: r.detail ?? null,
    }));
    return { items, next: rows.length > q.limit ? (items.at(-1)?.id ?? null) : null };
  }
}
