import type { PoolClient } from 'pg';
import { rows } from '../db/sql';
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

async function existingUsers(c: PoolClient, directoryId: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    const found = new Set((await rows<{ id: string }>(c, 'SELECT id FROM scim_users WHERE directory_id = $1 AND id = ANY($2::text[])', [directoryId, part])).map((r) => r.id));
    if (found.size !== part.length) {
      const missing = part.filter((id) => !found.has(id));
      throw ScimError.invalidValue(`Unknown member id(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    }
  }
}

/** Applies membership actions in order inside the group's transaction, touching only the rows named. */
export async function applyMemberActions(c: PoolClient, directoryId: string, groupId: string, actions: MemberAction[], delta: MembershipDelta): Promise<void> {
  for (const a of actions) {
    if (a.kind === 'removeAll') {
      const gone = await rows<{ user_id: string }>(c, 'DELETE FROM scim_memberships WHERE group_id = $1 RETURNING user_id', [groupId]);
      delta.remove(gone.map((r) => r.user_id));
    } else if (a.kind === 'remove') {
      for (let i = 0; i < a.ids.length; i += CHUNK) {
        const part = a.ids.slice(i, i + CHUNK);
        const gone = await rows<{ user_id: string }>(c, 'DELETE FROM scim_memberships WHERE group_id = $1 AND user_id = ANY($2::text[]) RETURNING user_id', [groupId, part]);
        delta.remove(gone.map((r) => r.user_id));
      }
    } else if (a.ids.length) {
      await existingUsers(c, directoryId, a.ids);
      for (let i = 0; i < a.ids.length; i += CHUNK) {
        const part = a.ids.slice(i, i + CHUNK);
        const added = await rows<{ user_id: string }>(
          c,
          'INSERT INTO scim_memberships (group_id, user_id) SELECT $1, u FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING RETURNING user_id',
          [groupId, part],
        );
        delta.add(added.map((r) => r.user_id));
      }
    }
  }
}
