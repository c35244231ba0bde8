import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import { RequireRoles } from '@idp/auth-common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { CleanupService, type CleanupReport } from '../cleanup/cleanup.service';
import { ProvisioningLogService } from '../provisioning-log/provisioning-log.service';
import { DirectoriesService } from '../tokens/directories.service';
import { TokensService, type TokenView } from '../tokens/tokens.service';
import { isTransientDbError } from '@idp/service-kit';
import { AdminDbErrorsInterceptor, transientDbError } from './admin-errors';
import {
  cleanupQuery,
  createTokenBody,
  directoryBody,
  directoryParam,
  exportQuery,
  logQuery,
  parseInput,
  tokenParam,
} from './admin-input';

/** The Entra ID app role an admin caller (app-only token) must hold; SCIM bearer tokens never qualify. */
export const SCIM_ADMIN_ROLE = 'Scim.Admin';

@Controller('admin/directories/:directoryId')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminDbErrorsInterceptor)
export class DirectoryAdminController {
  constructor(private readonly directories: DirectoriesService) {}

  @Get()
  async get(@Param('directoryId') id: string) {
    const d = await this.directories.get(parseInput(directoryParam, id));
    if (!d) throw new NotFoundException(`Directory ${id} not found`);
    return {
      id: d.id,
      profile: d.profile,
      maxTokens: d.maxTokens,
      uniqueGroupDisplayName: d.uniqueGroupDisplayName,
      createdAt: d.createdAt.toISOString(),
    };
  }

  @Put()
  async put(@Param('directoryId') id: string, @Body() body: unknown) {
    await this.directories.update(parseInput(directoryParam, id), parseInput(directoryBody, body));
    return this.get(id);
  }
}

@Controller('admin/directories/:directoryId/tokens')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminDbErrorsInterceptor)
export class TokensAdminController {
  constructor(private readonly tokens: TokensService) {}

  /** The secret is in this response only. */
  @Post()
  @HttpCode(201)
  async create(
    @Param('directoryId') dir: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenView & { token: string }> {
    const { name, lifetimeDays } = parseInput(createTokenBody, body);
    const { token, view } = await this.tokens.create(
      parseInput(directoryParam, dir),
      name,
      lifetimeDays,
    );
    void reply.header('Cache-Control', 'no-store');
    return { ...view, token };
  }

  @Get()
  async list(@Param('directoryId') dir: string): Promise<{ items: TokenView[] }> {
    return { items: await this.tokens.list(parseInput(directoryParam, dir)) };
  }

  @Delete(':tokenId')
  revoke(@Param('directoryId') dir: string, @Param('tokenId') id: string): Promise<TokenView> {
    return this.tokens.revoke(parseInput(directoryParam, dir), parseInput(tokenParam, id));
  }
}

@Controller('admin/directories/:directoryId/provisioning-log')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminDbErrorsInterceptor)
export class ProvisioningLogAdminController {
  constructor(private readonly log: ProvisioningLogService) {}

  @Get()
  query(@Param('directoryId') dir: string, @Query() q: unknown) {
    return this.log.query({
      directoryId: parseInput(directoryParam, dir),
      ...parseInput(logQuery, q),
    });
  }

  /**
   * NDJSON, one request per line, oldest first; streamed so large exports stay cheap. The first
   * page is read before answering, so a database that is busy or down gets a 503, not a 200 with
   * an empty or cut body.
   */
  @Get('export')
  async export(
    @Param('directoryId') dir: string,
    @Query() q: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const filters = parseInput(exportQuery, q);
    const rows = this.log.export({ directoryId: parseInput(directoryParam, dir), ...filters });
    let first: IteratorResult<unknown>;
    try {
      first = await rows.next();
    } catch (e) {
      if (isTransientDbError(e)) throw transientDbError(e);
      throw e;
    }
    const lines = Readable.from(
      (async function* () {
        if (first.done) return;
        yield `${JSON.stringify(first.value)}\n`;
        for await (const r of rows) yield `${JSON.stringify(r)}\n`;
      })(),
    );
    void reply
      .header('content-type', 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="provisioning-log-${dir}.ndjson"`)
      .send(lines);
  }
}

@Controller('admin/directories/:directoryId/cleanup')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminDbErrorsInterceptor)
export class CleanupAdminController {
  constructor(private readonly cleanup: CleanupService) {}

  /** dryRun defaults to true: look at the report before purging. */
  @Post()
  @HttpCode(200)
  run(@Param('directoryId') dir: string, @Query() q: unknown): Promise<CleanupReport> {
    const { dryRun } = parseInput(cleanupQuery, q);
    return this.cleanup.run(parseInput(directoryParam, dir), dryRun);
  }
}
