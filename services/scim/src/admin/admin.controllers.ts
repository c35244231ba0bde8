import {
  Body,
  Controller,
  createParamDecorator,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseInterceptors,
  type ExecutionContext,
} from '@nestjs/common';
import { getRequestPrincipal, RequireRoles } from '@idp/auth-common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { CleanupService, type CleanupReport } from '../cleanup/cleanup.service';
import { ProvisioningLogService } from '../provisioning-log/provisioning-log.service';
import { DirectoriesService, type DirectoryView } from '../tokens/directories.service';
import { TokensService, type TokenView } from '../tokens/tokens.service';
import { isDatabaseUnavailable, isTransientDbError } from '@idp/service-kit';
import { AdminRequestInterceptor, transientDbError } from './admin-errors';
import {
  auditQuery,
  cleanupQuery,
  createDirectoryBody,
  createTokenBody,
  deleteDirectoryQuery,
  directoryBody,
  directoryListQuery,
  directoryParam,
  exportQuery,
  logQuery,
  parseInput,
  tokenParam,
} from './admin-input';
import { AuditRepository, type Actor } from './audit.repository';
import { extensionSchemaBody, extensionUrn, type ExtensionSchema } from '../scim/extension-schemas';

/** Who is calling, for the audit trail: `app:<appId>` (app-only token) or `user:<oid>`. */
const AdminActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const p = getRequestPrincipal(ctx.switchToHttp().getRequest<FastifyRequest>());
  return p?.kind === 'app' ? `app:${p.appId}` : p ? `user:${p.oid}` : 'unknown';
});

const directoryJson = (d: DirectoryView) => ({
  id: d.id,
  profile: d.profile,
  maxTokens: d.maxTokens,
  uniqueGroupDisplayName: d.uniqueGroupDisplayName,
  createdAt: d.createdAt.toISOString(),
});

/** The Entra ID app role an admin caller (app-only token) must hold; SCIM bearer tokens never qualify. */
export const SCIM_ADMIN_ROLE = 'Scim.Admin';

@Controller('admin/directories')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminRequestInterceptor)
export class DirectoriesAdminController {
  constructor(private readonly directories: DirectoriesService) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @AdminActor() actor: Actor) {
    const { id, ...settings } = parseInput(createDirectoryBody, body);
    return directoryJson(await this.directories.create(id, settings, actor));
  }

  /** Ordered by id; `next` continues via `after`. */
  @Get()
  async list(@Query() q: unknown) {
    const { after, limit } = parseInput(directoryListQuery, q);
    const page = await this.directories.list(after, limit);
    return { items: page.items.map(directoryJson), next: page.next };
  }
}

@Controller('admin/directories/:directoryId')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminRequestInterceptor)
export class DirectoryAdminController {
  constructor(private readonly directories: DirectoriesService) {}

  @Get()
  async get(@Param('directoryId') id: string) {
    return directoryJson(await this.directories.require(parseInput(directoryParam, id)));
  }

  @Put()
  async put(@Param('directoryId') id: string, @Body() body: unknown, @AdminActor() actor: Actor) {
    const dir = parseInput(directoryParam, id);
    return directoryJson(
      await this.directories.update(dir, parseInput(directoryBody, body), actor),
    );
  }

  /** Refused (409) while the directory holds users, groups or live tokens, unless `force=true`. */
  @Delete()
  remove(
    @Param('directoryId') id: string,
    @Query() q: unknown,
    @AdminActor() actor: Actor,
    @Req() req: FastifyRequest,
  ) {
    const dir = parseInput(directoryParam, id);
    const { force } = parseInput(deleteDirectoryQuery, q);
    // The request id goes into the event, as SCIM requests' ids go into theirs.
    return this.directories.delete(dir, force, actor, String(req.id));
  }
}

@Controller('admin/audit')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminRequestInterceptor)
export class AuditAdminController {
  constructor(private readonly audit: AuditRepository) {}

  /** Newest first; `next` continues via `before`. Records of deleted directories stay readable. */
  @Get()
  list(@Query() q: unknown) {
    return this.audit.page(parseInput(auditQuery, q));
  }
}

@Controller('admin/directories/:directoryId/tokens')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminRequestInterceptor)
export class TokensAdminController {
  constructor(
    private readonly tokens: TokensService,
    private readonly directories: DirectoriesService,
  ) {}

  /** The secret is in this response only. */
  @Post()
  @HttpCode(201)
  async create(
    @Param('directoryId') dir: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
    @AdminActor() actor: Actor,
  ): Promise<TokenView & { token: string }> {
    const directoryId = parseInput(directoryParam, dir);
    const { name, lifetimeDays } = parseInput(createTokenBody, body);
    const { token, view } = await this.tokens.create(
      directoryId,
      name,
      lifetimeDays,
      new Date(),
      actor,
    );
    void reply.header('Cache-Control', 'no-store');
    return { ...view, token };
  }

  @Get()
  async list(@Param('directoryId') dir: string): Promise<{ items: TokenView[] }> {
    const directoryId = parseInput(directoryParam, dir);
    await this.directories.mustExist(directoryId);
    return { items: await this.tokens.list(directoryId) };
  }

  @Delete(':tokenId')
  async revoke(
    @Param('directoryId') dir: string,
    @Param('tokenId') id: string,
    @AdminActor() actor: Actor,
  ): Promise<TokenView> {
    const directoryId = parseInput(directoryParam, dir);
    const tokenId = parseInput(tokenParam, id);
    await this.directories.mustExist(directoryId);
    return this.tokens.revoke(directoryId, tokenId, actor);
  }
}

@Controller('admin/directories/:directoryId/schemas')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminRequestInterceptor)
export class SchemasAdminController {
  constructor(private readonly directories: DirectoriesService) {}

  @Get()
  async list(@Param('directoryId') dir: string): Promise<{ items: ExtensionSchema[] }> {
    return { items: await this.directories.schemas(parseInput(directoryParam, dir)) };
  }

  /** Declares (201) or redefines (200) an extension schema. */
  @Put(':urn')
  async put(
    @Param('directoryId') dir: string,
    @Param('urn') urn: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
    @AdminActor() actor: Actor,
  ): Promise<ExtensionSchema> {
    const directoryId = parseInput(directoryParam, dir);
    const id = parseInput(extensionUrn, urn);
    const r = await this.directories.putSchema(
      directoryId,
      id,
      parseInput(extensionSchemaBody, body),
      actor,
    );
    void reply.status(r.created ? 201 : 200);
    return r.schema;
  }

  /** What documents hold under the schema stays stored, no longer returned or writable. */
  @Delete(':urn')
  remove(@Param('directoryId') dir: string, @Param('urn') urn: string, @AdminActor() actor: Actor) {
    return this.directories.deleteSchema(
      parseInput(directoryParam, dir),
      parseInput(extensionUrn, urn),
      actor,
    );
  }
}

@Controller('admin/directories/:directoryId/provisioning-log')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminRequestInterceptor)
export class ProvisioningLogAdminController {
  constructor(
    private readonly log: ProvisioningLogService,
    private readonly directories: DirectoriesService,
  ) {}

  @Get()
  async query(@Param('directoryId') dir: string, @Query() q: unknown) {
    const directoryId = parseInput(directoryParam, dir);
    const filters = parseInput(logQuery, q);
    await this.directories.mustExist(directoryId);
    return this.log.query({ directoryId, ...filters });
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
    const directoryId = parseInput(directoryParam, dir);
    const filters = parseInput(exportQuery, q);
    const rows = this.log.export({ directoryId, ...filters });
    let first: IteratorResult<unknown>;
    try {
      await this.directories.mustExist(directoryId);
      first = await rows.next();
    } catch (e) {
      if (isTransientDbError(e) || isDatabaseUnavailable(e)) throw transientDbError(e);
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
      .header(
        'content-disposition',
        `attachment; filename="provisioning-log-${directoryId}.ndjson"`,
      )
      .send(lines);
  }
}

@Controller('admin/directories/:directoryId/cleanup')
@RequireRoles(SCIM_ADMIN_ROLE)
@UseInterceptors(AdminRequestInterceptor)
export class CleanupAdminController {
  constructor(
    private readonly cleanup: CleanupService,
    private readonly directories: DirectoriesService,
  ) {}

  /** dryRun defaults to true: look at the report before purging. */
  @Post()
  @HttpCode(200)
  async run(
    @Param('directoryId') dir: string,
    @Query() q: unknown,
    @AdminActor() actor: Actor,
  ): Promise<CleanupReport> {
    const directoryId = parseInput(directoryParam, dir);
    const { dryRun } = parseInput(cleanupQuery, q);
    await this.directories.mustExist(directoryId);
    return this.cleanup.run(directoryId, dryRun, new Date(), actor);
  }
}
