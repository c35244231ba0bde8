import type { Tx } from '../db/prisma.service';
import { ScimError } from '../scim/scim-error';
import type { MemberAction } from './member-ops';

/** Net membership delta of a request: ids added and removed, each at most once. */
export class MembershipDelta {
  readonly added = new Set<string>();
  readonly removed = new Set<string>();

  add(ids: string[]): void {
    for (const id of ids) if (!this.removed.delete(id)) this.added.add(id);
  }
  remove(ids: string[]): void {
    for (const id of ids) if (!this.added.delete(id)) this.removed.add(id);
  }
  get empty(): boolean {
    return this.added.size === 0 && this.removed.size === 0;
  }
}

const CHUNK = 5000;

async function existingUsers(tx: Tx, directoryId: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM scim_users WHERE directory_id = ${directoryId} AND id = ANY(${part}::text[])`;
    if (rows.length !== part.length) {
      const found = new Set(rows.map((r) => r.id));
      const missing = part.filter((id) => !found.has(id));
      throw ScimError.invalidValue(`Unknown member id(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    }
  }
}

/** Applies membership actions in order inside the group's transaction, touching only the rows named. */
export async function applyMemberActions(tx: Tx, directoryId: string, groupId: string, actions: MemberAction[], delta: MembershipDelta): Promise<void> {
  for (const a of actions) {
    if (a.kind === 'removeAll') {
      const rows = await tx.$queryRaw<{ user_id: string }[]>`DELETE FROM scim_memberships WHERE group_id = ${groupId} RETURNING user_id`;
      delta.remove(rows.map((r) => r.user_id));
    } else if (a.kind === 'remove') {
      for (let i = 0; i < a.ids.length; i += CHUNK) {
        const part = a.ids.slice(i, i + CHUNK);
        const rows = await tx.$queryRaw<{ user_id: string }[]>`DELETE FROM scim_memberships WHERE group_id = ${groupId} AND user_id = ANY(${part}::text[]) RETURNING user_id`;
        delta.remove(rows.map((r) => r.user_id));
      }
    } else if (a.ids.length) {
      await existingUsers(tx, directoryId, a.ids);
      for (let i = 0; i < a.ids.length; i += CHUNK) {
        const part = a.ids.slice(i, i + CHUNK);
        const rows = await tx.$queryRaw<{ user_id: string }[]>`
          INSERT INTO scim_memberships (group_id, user_id) SELECT ${groupId}, u FROM unnest(${part}::text[]) AS u
          ON CONFLICT DO NOTHING RETURNING user_id`;
        delta.add(rows.map((r) => r.user_id));
      }
    }
  }
}
