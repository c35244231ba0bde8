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
import { attrList, parseListQuery } from '../scim/list-query';
import { Scim, type ScimContext } from '../scim/request-context';
import { searchRequestQuery } from '../scim/search-request';
import { ScimController, ScimJson } from '../scim/scim-controller.decorators';
import type { JsonObject } from '../scim/schemas';
import { etag } from '../users/users.controller';
import type { ListResult } from '../users/users.service';
import { GroupsService } from './groups.service';

const one = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

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
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonObject> {
    return etag(
      reply,
      await this.groups.get(
        ctx,
        id,
        attrList(one(q.attributes)),
        attrList(one(q.excludedAttributes)),
      ),
    );
  }

  @Post()
  @HttpCode(201)
  @ScimJson()
  async create(
    @Scim() ctx: ScimContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonObject> {
    const res = await this.groups.create(ctx, body);
    void reply.header('Location', (res.meta as { location: string }).location);
    return etag(reply, res);
  }

  @Put(':id')
  @ScimJson()
  async replace(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonObject> {
    return etag(reply, await this.groups.replace(ctx, id, body, ifMatch));
  }

  /** Entra expects 204 from a group PATCH. */
  @Patch(':id')
  @HttpCode(204)
  async patch(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.groups.patch(ctx, id, body, ifMatch);
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
