import 'reflect-metadata';
import { HttpException, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OutboxWriter, PoolLifecycle, poolProvider } from '@idp/service-kit';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import {
  auditQuery,
  createDirectoryBody,
  createTokenBody,
  directoryBody,
  parseInput,
  tokenParam,
} from '../admin/admin-input';
import { AuditRepository, type Actor } from '../admin/audit.repository';
import { extensionSchemaBody, extensionUrn } from '../scim/extension-schemas';
import { loadScimConfig, SCIM_CONFIG } from '../config';
import { PrismaService } from '../db/prisma.service';
import { DirectoriesRepository } from '../tokens/directories.repository';
import { DIRECTORY_ID, DirectoriesService } from '../tokens/directories.service';
import { TokensRepository } from '../tokens/tokens.repository';
import { TokensService } from '../tokens/tokens.service';

// Admin command for operators without an Entra token at hand (first token, break-glass):
//   node dist/cli/admin-cli.js directory create <directoryId> [default|aws] [--profile <default|aws>]
//     [--maxTokens <1-100|default>] [--uniqueGroupDisplayName <true|false>]
//   node dist/cli/admin-cli.js directory list
//   node dist/cli/admin-cli.js directory show <directoryId>
//   node dist/cli/admin-cli.js directory delete <directoryId> [--force]
//   node dist/cli/admin-cli.js token create <directoryId> <name> [lifetimeDays]
//   node dist/cli/admin-cli.js token list <directoryId>
//   node dist/cli/admin-cli.js token revoke <directoryId> <tokenId>
//   node dist/cli/admin-cli.js directory profile <directoryId> <default|aws>
//   node dist/cli/admin-cli.js directory unique-group-names <directoryId> <on|off>
//   node dist/cli/admin-cli.js directory max-tokens <directoryId> <1-100|default>
//   node dist/cli/admin-cli.js directory schema put <directoryId> <file.json>   ({"urn": ..., and the PUT body})
//   node dist/cli/admin-cli.js directory schema list <directoryId>
//   node dist/cli/admin-cli.js directory schema delete <directoryId> <urn>
//   node dist/cli/admin-cli.js audit [--directoryId <id>] [--action <action>] [--limit <1-1000>] [--before <entryId>]
// Reads DATABASE_URL (and the SCIM_* token settings) like the service; the secret is printed once.
// Input is checked as the admin API checks it. Exit codes: 0 done, 1 failed (not found, at the
// token cap, database unreachable, invalid configuration), 2 usage or invalid input; errors are
// one line on stderr. Every change is in the audit trail as `cli:<OS user>`.

/** The command's result on stdout, for scripts to parse. */
const out = (json: string): void => void process.stdout.write(`${json}\n`);

const USAGE =
  'usage: admin-cli directory create <dir> [default|aws] [--profile default|aws] [--maxTokens 1-100|default] [--uniqueGroupDisplayName true|false] | directory list | directory show <dir> | directory delete <dir> [--force] | directory profile <dir> <default|aws> | directory unique-group-names <dir> <on|off> | directory max-tokens <dir> <1-100|default> | directory schema put <dir> <file.json> | directory schema list <dir> | directory schema delete <dir> <urn> | token create <dir> <name> [days] | token list <dir> | token revoke <dir> <id> | audit [--directoryId <dir>] [--action <action>] [--limit 1-1000] [--before <entryId>]';

/** Arguments per command: [fewest, most], both counting area and verb. */
const ARITY = new Map<string, [number, number]>([
  ['directory list', [2, 2]],
  ['directory show', [3, 3]],
  ['directory delete', [3, 4]],
  ['directory profile', [4, 4]],
  ['directory unique-group-names', [4, 4]],
  ['directory max-tokens', [4, 4]],
  ['token create', [4, 5]],
  ['token list', [3, 3]],
  ['token revoke', [4, 4]],
]);

/** The operator, for the audit trail (no secret: the OS account name). */
function cliActor(): Actor {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

class UsageError extends Error {}

/** One line for the operator: Prisma's messages start with a code excerpt, the cause is last. */
function oneLine(e: unknown): string {
  if (e instanceof HttpException || e instanceof UsageError) return e.message;
  const lines = (e instanceof Error ? e.message : String(e))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length > 1 && lines[0]?.startsWith('Invalid `')
    ? (lines.at(-1) ?? '')
    : lines.join(' ');
}

/** The create arguments, checked by the admin API's own schema. */
function createArgs(name: string, days: string | undefined): { name: string; days?: number } {
  if (days !== undefined && !/^\d{1,9}$/.test(days))
    throw new UsageError('lifetimeDays must be a positive integer');
  const r = createTokenBody.safeParse({
    name,
    ...(days === undefined ? {} : { lifetimeDays: Number(days) }),
  });
  if (!r.success)
    throw new UsageError(
      r.error.issues
        .map((i) => `${i.path.join('.') === 'name' ? 'name' : 'lifetimeDays'}: ${i.message}`)
        .join('; '),
    );
  return { name: r.data.name, days: r.data.lifetimeDays };
}

/** A token cap as PUT /admin/directories/{id} takes it: 1-100, or `default` (null). */
function capArg(a: string): number | null {
  if (a === 'default') return null;
  const r = /^\d{1,3}$/.test(a) ? directoryBody.safeParse({ maxTokens: Number(a) }) : undefined;
  if (!r?.success || r.data.maxTokens === undefined)
    throw new UsageError('maxTokens must be an integer from 1 to 100, or default');
  return r.data.maxTokens;
}

/** Options of a command given as `--name value` (parseArgs: unknown or valueless ones are usage errors). */
function options<K extends string>(args: string[], names: readonly K[]) {
  return parseArgs({
    args,
    options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) as Record<
      K,
      { type: 'string' }
    >,
    allowPositionals: true,
    strict: true,
  });
}

type Command =
  | { kind: 'audit'; query: z.infer<typeof auditQuery> }
  | { kind: 'schema-list'; dir: string }
  | { kind: 'schema-delete'; dir: string; urn: string }
  | {
      kind: 'schema-put';
      dir: string;
      urn: string;
      body: z.infer<typeof extensionSchemaBody>;
    }
  | { kind: 'create'; dir: string; body: z.infer<typeof createDirectoryBody> };

/**
 * `audit` and `directory create` take the options of GET /admin/audit and POST
 * /admin/directories, checked by the same schemas. `undefined`: not one of these commands.
 * Throws TypeError (parseArgs) on a usage error, UsageError or the API's BadRequestException
 * (same words) on invalid input.
 */
function optionCommand(argv: string[]): Command | undefined {
  if (argv[0] === 'directory' && argv[1] === 'schema') return schemaCommand(argv.slice(2));
  if (argv[0] === 'audit') {
    const { values, positionals } = options(argv.slice(1), [
      'directoryId',
      'action',
      'limit',
      'before',
    ]);
    if (positionals.length > 0) throw new TypeError('audit takes no positional arguments');
    return { kind: 'audit', query: parseInput(auditQuery, values) };
  }
  if (argv[0] === 'directory' && argv[1] === 'create') {
    const { values, positionals } = options(argv.slice(2), [
      'profile',
      'maxTokens',
      'uniqueGroupDisplayName',
    ]);
    const [dir, profile, ...rest] = positionals;
    if (dir === undefined || rest.length > 0) throw new TypeError('directory create <dir>');
    if (profile !== undefined && values.profile !== undefined && profile !== values.profile)
      throw new UsageError('the profile is given twice, differently');
    const { maxTokens, uniqueGroupDisplayName } = values;
    const body: Record<string, unknown> = { id: dir };
    if (profile !== undefined || values.profile !== undefined)
      body.profile = values.profile ?? profile;
    // Numbers and booleans as JSON would carry them; anything else is passed on for the schema to refuse.
    if (maxTokens !== undefined)
      body.maxTokens =
        maxTokens === 'default'
          ? null
          : /^\d{1,9}$/.test(maxTokens)
            ? Number(maxTokens)
            : maxTokens;
    if (uniqueGroupDisplayName !== undefined)
      body.uniqueGroupDisplayName =
        uniqueGroupDisplayName === 'true'
          ? true
          : uniqueGroupDisplayName === 'false'
            ? false
            : uniqueGroupDisplayName;
    return { kind: 'create', dir, body: parseInput(createDirectoryBody, body) };
  }
  return undefined;
}

/**
 * `directory schema put|list|delete`: the file of `put` is the body of PUT
 * /admin/directories/{id}/schemas/{urn} with the URN under `urn`, checked by the same schemas.
 */
function schemaCommand(args: string[]): Command {
  const [op, dir, arg, ...rest] = args;
  if (dir === undefined || rest.length > 0 || !DIRECTORY_ID.test(dir))
    throw new TypeError('directory schema <op> <dir>');
  if (op === 'list' && arg === undefined) return { kind: 'schema-list', dir };
  if (op === 'delete' && arg !== undefined)
    return { kind: 'schema-delete', dir, urn: parseInput(extensionUrn, arg) };
  if (op !== 'put' || arg === undefined) throw new TypeError('directory schema put|list|delete');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(arg, 'utf8'));
  } catch (e) {
    throw new UsageError(
      e instanceof SyntaxError ? `${arg} is not valid JSON` : `${arg} cannot be read`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UsageError(`${arg} must hold a JSON object`);
  const { urn, ...body } = json as Record<string, unknown>;
  if (urn === undefined) throw new UsageError('urn: the file must name the schema under "urn"');
  return {
    kind: 'schema-put',
    dir,
    urn: parseInput(extensionUrn, urn),
    body: parseInput(extensionSchemaBody, body),
  };
}

async function main(argv: string[]): Promise<number> {
  let command: Command | undefined;
  try {
    command = optionCommand(argv);
  } catch (e) {
    console.error(e instanceof UsageError || e instanceof HttpException ? e.message : USAGE);
    return 2;
  }
  const [area, verb, dir, a, b] = argv;
  const arity = ARITY.get(`${area} ${verb}`);
  const usage =
    command === undefined &&
    (!area ||
      !verb ||
      arity === undefined ||
      argv.length < arity[0] ||
      argv.length > arity[1] ||
      (dir !== undefined && !DIRECTORY_ID.test(dir)) ||
      (verb === 'delete' && a !== undefined && a !== '--force'));
  if (usage) {
    console.error(USAGE);
    return 2;
  }
  let create: { name: string; days?: number } | undefined;
  let maxTokens: number | null | undefined;
  try {
    if (area === 'token' && verb === 'create' && a !== undefined) create = createArgs(a, b);
    if (area === 'directory' && verb === 'max-tokens' && a !== undefined) maxTokens = capArg(a);
    if (area === 'token' && verb === 'revoke' && a !== undefined) parseInput(tokenParam, a);
  } catch (e) {
    console.error(oneLine(e));
    return 2;
  }
  let config: ReturnType<typeof loadScimConfig>;
  try {
    config = loadScimConfig({ NATS_URL: 'nats://unused:4222', ...process.env });
  } catch (e) {
    console.error(oneLine(e));
    return 1;
  }

  // The service's own providers over a pool of its own (closed by PoolLifecycle with the context).
  @Module({
    providers: [
      { provide: SCIM_CONFIG, useValue: config },
      poolProvider(() => config.DATABASE_URL),
      PoolLifecycle,
      OutboxWriter,
      PrismaService,
      DirectoriesRepository,
      TokensRepository,
      DirectoriesService,
      TokensService,
      AuditRepository,
    ],
  })
  class CliModule {}

  let ctx: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>;
  try {
    ctx = await NestFactory.createApplicationContext(CliModule, { logger: false });
  } catch (e) {
    console.error(oneLine(e));
    return 1;
  }
  const actor = cliActor();
  try {
    const tokens = ctx.get(TokensService);
    const directories = ctx.get(DirectoriesService);
    const json = (d: { createdAt: Date }) => ({ ...d, createdAt: d.createdAt.toISOString() });
    if (command?.kind === 'audit') {
      out(JSON.stringify(await ctx.get(AuditRepository).page(command.query)));
    } else if (command?.kind === 'schema-list') {
      out(JSON.stringify(await directories.schemas(command.dir)));
    } else if (command?.kind === 'schema-put') {
      const r = await directories.putSchema(command.dir, command.urn, command.body, actor);
      out(JSON.stringify(r.schema));
    } else if (command?.kind === 'schema-delete') {
      out(JSON.stringify(await directories.deleteSchema(command.dir, command.urn, actor)));
    } else if (command?.kind === 'create') {
      const { id, ...settings } = command.body;
      out(JSON.stringify(json(await directories.create(id, settings, actor))));
    } else if (area === 'directory' && verb === 'list') {
      const all = [];
      let after: string | undefined;
      do {
        const page = await directories.list(after, 1000);
        all.push(...page.items.map(json));
        after = page.next ?? undefined;
      } while (after !== undefined);
      out(JSON.stringify(all));
    } else if (!dir) {
      console.error(USAGE);
      return 2;
    } else if (area === 'directory' && verb === 'show') {
      out(JSON.stringify(json(await directories.require(dir))));
    } else if (area === 'directory' && verb === 'delete') {
      out(JSON.stringify(await directories.delete(dir, a === '--force', actor)));
    } else if (area === 'token' && verb === 'create' && create) {
      const { token, view } = await tokens.create(dir, create.name, create.days, new Date(), actor);
      out(JSON.stringify({ ...view, token }));
    } else if (area === 'token' && verb === 'list') {
      await directories.mustExist(dir);
      out(JSON.stringify(await tokens.list(dir)));
    } else if (area === 'token' && verb === 'revoke' && a) {
      await directories.mustExist(dir);
      out(JSON.stringify(await tokens.revoke(dir, a, actor)));
    } else if (area === 'directory' && verb === 'profile' && (a === 'default' || a === 'aws')) {
      await directories.update(dir, { profile: a }, actor);
      out(JSON.stringify({ id: dir, profile: a }));
    } else if (
      area === 'directory' &&
      verb === 'unique-group-names' &&
      (a === 'on' || a === 'off')
    ) {
      await directories.update(dir, { uniqueGroupDisplayName: a === 'on' }, actor);
      out(JSON.stringify({ id: dir, uniqueGroupDisplayName: a === 'on' }));
    } else if (area === 'directory' && verb === 'max-tokens' && maxTokens !== undefined) {
      out(JSON.stringify(json(await directories.update(dir, { maxTokens }, actor))));
    } else {
      console.error(USAGE);
      return 2;
    }
    return 0;
  } catch (e) {
    console.error(oneLine(e));
    return 1;
  } finally {
    await ctx.close();
  }
}

void main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(oneLine(e));
    process.exit(1);
  },
);
