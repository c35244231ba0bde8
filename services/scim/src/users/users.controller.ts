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
import { Scim, type ScimContext } from '../scim/request-context';
import { searchRequestQuery } from '../scim/search-request';
import { ScimController, ScimJson } from '../scim/scim-controller.decorators';
import type { JsonObject } from '../scim/schemas';
import { notModified } from '../scim/meta';
import { projection, type Read, type Written } from '../scim/projection';
import { UsersService, type ListResult } from './users.service';

@ScimController('Users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ScimJson()
  list(@Scim() ctx: ScimContext, @Query() q: Record<string, unknown>): Promise<ListResult> {
    return this.users.list(ctx, parseListQuery(q, ctx.profile, this.users.maxPage));
  }

  /** RFC 7644 §3.4.3: the same list as GET, with the query in a SearchRequest body. */
  @Post('.search')
  @HttpCode(200)
  @ScimJson()
  search(@Scim() ctx: ScimContext, @Body() body: unknown): Promise<ListResult> {
    return this.users.list(
      ctx,
      parseListQuery(searchRequestQuery(body), ctx.profile, this.users.maxPage),
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
    return sendRead(reply, ifNoneMatch, await this.users.get(ctx, id, p.attributes, p.excluded));
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
    const w = await this.users.create(ctx, body, projection(q));
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
    return sendWritten(reply, await this.users.replace(ctx, id, body, ifMatch, projection(q)));
  }

  @Patch(':id')
  @ScimJson()
  async patch(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() q: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonObject> {
    return sendWritten(reply, await this.users.patch(ctx, id, body, ifMatch, projection(q)));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.users.delete(ctx, id, ifMatch);
  }
}

/** A write's response: its ETag is the resource's version, whatever the projection kept. */
export function sendWritten(reply: FastifyReply, w: Written): JsonObject {
  if (w.etag) void reply.header('ETag', w.etag);
  return w.resource;
}

/**
 * A read's response: the ETag is the resource's version whatever the projection kept, and a client
 * whose If-None-Match names it gets 304 without a body (RFC 7644 §3.14).
 */
export function sendRead(
  reply: FastifyReply,
  ifNoneMatch: string | undefined,
  r: Read,
): JsonObject | undefined {
  void reply.header('ETag', r.etag);
  if (!notModified(ifNoneMatch, r.etag)) return r.resource;
  void reply.code(304).removeHeader('Content-Type');
  return undefined;
}
