import { z } from 'zod';
import { defineEvent } from './contract';

const base = {
  eventId: z.uuid(),
  directoryId: z.string().min(1),
  occurredAt: z.iso.datetime(),
  requestId: z.string().optional(),
};

const userEvent = z.object({
  ...base,
  userId: z.string().min(1),
  externalId: z.string().nullable().optional(),
  userName: z.string(),
  active: z.boolean(),
});

const userEvt = (name: string, description: string) =>
  defineEvent({
    name: `scim.user.${name}`,
    version: 1,
    stream: 'SCIM',
    schema: userEvent,
    description,
  });

export const ScimUserCreated = userEvt('created', 'A user was provisioned.');
export const ScimUserUpdated = userEvt('updated', 'A user was changed (PUT or PATCH).');
export const ScimUserDeactivated = userEvt('deactivated', 'A user was set active=false.');
export const ScimUserReactivated = userEvt('reactivated', 'A user was set active=true again.');
export const ScimUserDeleted = userEvt(
  'deleted',
  'A user was deleted (by DELETE or by the retention cleanup).',
);

const groupEvent = z.object({
  ...base,
  groupId: z.string().min(1),
  externalId: z.string().nullable().optional(),
  displayName: z.string(),
  /** Membership delta: user ids added and removed by this change. */
  membersAdded: z.array(z.string()),
  membersRemoved: z.array(z.string()),
});

const groupEvt = (name: string, description: string) =>
  defineEvent({
    name: `scim.group.${name}`,
    version: 1,
    stream: 'SCIM',
    schema: groupEvent,
    description,
  });

export const ScimGroupCreated = groupEvt(
  'created',
  'A group was provisioned (with its initial members).',
);
export const ScimGroupUpdated = groupEvt(
  'updated',
  'A group was changed; the membership delta may be empty.',
);
export const ScimGroupDeleted = groupEvt('deleted', 'A group was deleted.');

export const ScimTokenExpiring = defineEvent({
  name: 'scim.token.expiring',
  version: 1,
  stream: 'SCIM',
  description: 'A SCIM bearer token expires within the warning window.',
  schema: z.object({
    eventId: z.uuid(),
    directoryId: z.string().min(1),
    tokenId: z.string().min(1),
    tokenName: z.string(),
    expiresAt: z.iso.datetime(),
    daysLeft: z.number().int(),
  }),
});

/**
 * One event for a whole directory removed by the admin API or CLI (with `force`, everything it
 * held): no per-user or per-group events are sent for what it removed, so a consumer mirroring
 * the directory drops all it holds for `directoryId` on this event. It is staged in the delete's
 * transaction and published after every event the directory's earlier changes staged; events
 * naming the same `directoryId` after it belong to a directory created anew with that id.
 */
export const ScimDirectoryDeleted = defineEvent({
  name: 'scim.directory.deleted',
  version: 1,
  stream: 'SCIM',
  description:
    'A directory was deleted with everything it held; drop all data of the directory (no per-resource events follow).',
  schema: z.object({
    ...base,
    /** Whether the delete was forced (the directory still held users, groups or live tokens). */
    force: z.boolean(),
    /** What the delete removed, counted in its transaction. */
    usersRemoved: z.number().int().nonnegative(),
    groupsRemoved: z.number().int().nonnegative(),
    /** Unrevoked, unexpired tokens deleted with the directory (they stopped working). */
    liveTokensRemoved: z.number().int().nonnegative(),
  }),
});
