import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { invalidBodyDetail } from '../scim/json-body';
import { DIRECTORY_ID } from '../tokens/directories.service';

export const directoryParam = z
  .string()
  .regex(DIRECTORY_ID, 'directoryId must be 1-64 letters, digits, _ or -');

/** A key the caller sent that is safe to name back in an error (no markup, no control characters). */
const NAMEABLE = /^[A-Za-z0-9_.-]{1,64}$/;

/** An issue in words that never repeat the caller's values (only field names of a safe shape). */
function describe(i: z.core.$ZodIssue): string {
  const where =
    i.path
      .map(String)
      .filter((p) => NAMEABLE.test(p))
      .join('.') || 'input';
  if (i.code === 'unrecognized_keys') {
    const named = i.keys.filter((k) => NAMEABLE.test(k));
    return named.length === i.keys.length
      ? `${where}: unknown key${named.length > 1 ? 's' : ''} ${named.map((k) => `"${k}"`).join(', ')}`
      : `${where}: unknown key(s)`;
  }
  return `${where}: ${i.message}`;
}

export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  if (invalidBodyDetail(input)) throw new BadRequestException('The request body is not valid JSON');
  const r = schema.safeParse(input);
  if (!r.success) throw new BadRequestException(r.error.issues.map(describe).join('; '));
  return r.data;
}

// PostgreSQL text cannot hold NUL (a 500 before); other control characters have no place in a
// name or an id and would garble the listings and logs that show them.
const CONTROL = /\p{Cc}/u; // C0, DEL and C1 control characters
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !CONTROL.test(v), { message: 'must not contain control characters' });

export const tokenParam = text(100);

// Objects are strict: an unknown or misspelt key (`maxToken`, `outcomes`) is 400, not silently
// ignored, so an operator never reads an unfiltered log or keeps a setting they meant to change.
export const createTokenBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((v) => !CONTROL.test(v), { message: 'must not contain control characters' }),
  lifetimeDays: z.number().int().min(1).max(3650).optional(),
});

const settings = {
  profile: z.enum(['default', 'aws']).optional(),
  maxTokens: z.number().int().min(1).max(100).nullable().optional(),
  uniqueGroupDisplayName: z.boolean().optional(),
};

export const directoryBody = z
  .strictObject(settings)
  .refine(
    (b) =>
      b.profile !== undefined ||
      b.maxTokens !== undefined ||
      b.uniqueGroupDisplayName !== undefined,
    { message: 'profile, maxTokens or uniqueGroupDisplayName is required' },
  );

/** POST /admin/directories: the id and, optionally, the settings PUT takes. */
export const createDirectoryBody = z.strictObject({
  id: directoryParam,
  ...settings,
});

export const directoryListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: directoryParam.optional(),
});

export const deleteDirectoryQuery = z.strictObject({
  force: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

/** A bigint row id (19 digits can still exceed its range). */
const rowId = z
  .string()
  .regex(/^\d{1,19}$/, 'must be an entry id')
  .transform((s) => BigInt(s))
  .refine((n) => n <= 9_223_372_036_854_775_807n, { message: 'must be an entry id' });

export const auditQuery = z.strictObject({
  directoryId: directoryParam.optional(),
  action: z
    .enum([
      'directory.create',
      'directory.update',
      'directory.delete',
      'token.create',
      'token.revoke',
      'schema.put',
      'schema.delete',
      'cleanup.purge',
    ])
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: rowId.optional(),
});

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const logQuery = z.strictObject({
  since: isoDate.optional(),
  until: isoDate.optional(),
  resourceType: text(40).optional(),
  resourceId: text(100).optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  // Every operation the log records (src/provisioning-log/classify.ts), `.search` POSTs included.
  operation: z.enum(['create', 'get', 'list', 'replace', 'update', 'delete', 'search']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  // A log row id (bigint): 19 digits can still exceed its range.
  before: z
    .string()
    .regex(/^\d{1,19}$/)
    .transform((s) => BigInt(s))
    .refine((n) => n <= 9_223_372_036_854_775_807n, { message: 'must be a log entry id' })
    .optional(),
});

/** The export takes the filters only (it is every matching row, oldest first). */
export const exportQuery = logQuery.omit({ limit: true, before: true });

export const cleanupQuery = z.strictObject({
  dryRun: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});
