import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OutboxWriter, PoolLifecycle, poolProvider } from '@idp/service-kit';
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

/** The command's result on stdout, for scripts to parse. */
const out = (json: string): void => void process.stdout.write(`${json}\n`);

const USAGE =
  'usage: admin-cli token create <dir> <name> [days] | token list <dir> | token revoke <dir> <id> | directory profile <dir> <default|aws> | directory unique-group-names <dir> <on|off>';

async function main(argv: string[]): Promise<number> {
  const [area, verb, dir, a, b] = argv;
  if (!area || !verb || !dir || !DIRECTORY_ID.test(dir)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadScimConfig({ NATS_URL: 'nats://unused:4222', ...process.env });

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

  const ctx = await NestFactory.createApplicationContext(CliModule, { logger: false });
  try {
    const tokens = ctx.get(TokensService);
    if (area === 'token' && verb === 'create' && a) {
      const days = b === undefined ? undefined : Number(b);
      if (days !== undefined && (!Number.isInteger(days) || days < 1))
        throw new Error('lifetimeDays must be a positive integer');
      const { token, view } = await tokens.create(dir, a, days);
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
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  } finally {
    await ctx.close();
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
