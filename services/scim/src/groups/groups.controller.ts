import {
  Body,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { parseListQuery } from '../scim/list-query';
import { projection } from '../scim/projection';
import { Scim, type ScimContext } from '../scim/request-context';
import { searchRequestQuery } from '../scim/search-request';
import { ScimController, ScimJson } from '../scim/scim-controller.decorators';
import { SCIM_CONTENT_TYPE, type JsonObject } from '../scim/schemas';
import { sendRead, sendWritten } from '../users/users.controller';
import type { ListResult } from '../users/users.service';
import { GroupsService } from './groups.service';

@ScimController('Groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ScimJson()
  list(@Scim() ctx: ScimContext, @Query() q: Record<string, unknown>): Promise<ListResult> {
    return this.groups.list(ctx, parseListQuery(q, ctx.profile, this.groups.maxPage));
  }

  /** RFC 7644 §3.4.3: the same list as GET, with the query in a SearchRequest body. */
  @Post('.search')
  @HttpCode(200)
  @ScimJson()
  search(@Scim() ctx: ScimContext, @Body() body: unknown): Promise<ListResult> {
    return this.groups.list(
      ctx,
      parseListQuery(searchRequestQuery(body), ctx.profile, this.groups.maxPage),
    );
  }

  @Get(':id')
  @ScimJson()
  async get(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Query() q: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonObject | undefined> {
    const p = projection(q);
    return sendRead(reply, ifNoneMatch, await this.groups.get(ctx, id, p.attributes, p.excluded));
  }

  @Post()
  @HttpCode(201)
  @ScimJson()
  async create(
    @Scim() ctx: ScimContext,
    @Body() body: unknown,
    @Query() q: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonObject> {
    const w = await this.groups.create(ctx, body, projection(q));
    void reply.header('Location', w.location);
    return sendWritten(reply, w);
  }

  @Put(':id')
  @ScimJson()
  async replace(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() q: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonObject> {
    return sendWritten(reply, await this.groups.replace(ctx, id, body, ifMatch, projection(q)));
  }

  /**
   * Entra expects 204 from a group PATCH; RFC 7644 §3.5.2 wants 200 with the resource when the
   * request names `attributes` (here also `excludedAttributes`).
   */
  @Patch(':id')
  @HttpCode(204)
  async patch(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() q: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonObject | undefined> {
    const w = await this.groups.patch(ctx, id, body, ifMatch, projection(q));
    if (!w) return undefined;
    void reply.code(200).header('Content-Type', SCIM_CONTENT_TYPE);
    return sendWritten(reply, w);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.groups.delete(ctx, id, ifMatch);
  }
}
