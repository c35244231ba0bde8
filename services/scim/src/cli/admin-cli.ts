import 'reflect-metadata';
import { HttpException, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OutboxWriter, PoolLifecycle, poolProvider } from '@idp/service-kit';
import { createTokenBody, parseInput, tokenParam } from '../admin/admin-input';
import { loadScimConfig, SCIM_CONFIG } from '../config';
import { PrismaService } from '../db/prisma.service';
import { DirectoriesRepository } from '../tokens/directories.repository';
import { DIRECTORY_ID, DirectoriesService } from '../tokens/directories.service';
import { TokensRepository } from '../tokens/tokens.repository';
import { TokensService } from '../tokens/tokens.service';

// Admin command for operators without an Entra token at hand (first token, break-glass):
//   node dist/cli/admin-cli.js token create <directoryId> <name> [lifetimeDays]
//   node dist/cli/admin-cli.js token list <directoryId>
//   node dist/cli/admin-cli.js token revoke <directoryId> <tokenId>
//   node dist/cli/admin-cli.js directory profile <directoryId> <default|aws>
//   node dist/cli/admin-cli.js directory unique-group-names <directoryId> <on|off>
// Reads DATABASE_URL (and the SCIM_* token settings) like the service; the secret is printed once.
// Input is checked as the admin API checks it. Exit codes: 0 done, 1 failed (not found, at the
// token cap, database unreachable, invalid configuration), 2 usage or invalid input; errors are
// one line on stderr.

/** The command's result on stdout, for scripts to parse. */
const out = (json: string): void => void process.stdout.write(`${json}\n`);

const USAGE =
  'usage: admin-cli token create <dir> <name> [days] | token list <dir> | token revoke <dir> <id> | directory profile <dir> <default|aws> | directory unique-group-names <dir> <on|off>';

/** Arguments per command (the longest form). */
const ARITY = new Map([
  ['token create', 5],
  ['token list', 3],
  ['token revoke', 4],
  ['directory profile', 4],
  ['directory unique-group-names', 4],
]);

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

async function main(argv: string[]): Promise<number> {
  const [area, verb, dir, a, b] = argv;
  const max = ARITY.get(`${area} ${verb}`);
  if (!area || !verb || !dir || !DIRECTORY_ID.test(dir) || max === undefined || argv.length > max) {
    console.error(USAGE);
    return 2;
  }
  let create: { name: string; days?: number } | undefined;
  try {
    if (area === 'token' && verb === 'create' && a !== undefined) create = createArgs(a, b);
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
  try {
    const tokens = ctx.get(TokensService);
    if (area === 'token' && verb === 'create' && create) {
      const { token, view } = await tokens.create(dir, create.name, create.days);
      out(JSON.stringify({ ...view, token }));
    } else if (area === 'token' && verb === 'list') {
      out(JSON.stringify(await tokens.list(dir)));
    } else if (area === 'token' && verb === 'revoke' && a) {
      out(JSON.stringify(await tokens.revoke(dir, a)));
    } else if (area === 'directory' && verb === 'profile' && (a === 'default' || a === 'aws')) {
      await ctx.get(DirectoriesService).setProfile(dir, a);
      out(JSON.stringify({ id: dir, profile: a }));
    } else if (
      area === 'directory' &&
      verb === 'unique-group-names' &&
      (a === 'on' || a === 'off')
    ) {
      await ctx.get(DirectoriesService).update(dir, { uniqueGroupDisplayName: a === 'on' });
      out(JSON.stringify({ id: dir, uniqueGroupDisplayName: a === 'on' }));
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
