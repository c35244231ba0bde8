import { Body, HttpCode, Inject, Post } from '@nestjs/common';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { GroupsService } from '../groups/groups.service';
import { parseListQuery, type ListQuery } from '../scim/list-query';
import { Scim, type ScimContext } from '../scim/request-context';
import { ScimController, ScimJson } from '../scim/scim-controller.decorators';
import { ScimError } from '../scim/scim-error';
import { searchRequestQuery } from '../scim/search-request';
import { UsersService } from '../users/users.service';
import { splitFilter } from './cross-type-filter';
import { searchAcross, type CrossTypeResult } from './search-across';

/**
 * POST /.search on the SCIM base (RFC 7644 §3.4.3): one SearchRequest over Users and Groups. The
 * filter is split per resource type (cross-type-filter.ts) and each type is listed through its own
 * service, exactly as /Users/.search and /Groups/.search would; the pages are joined Users first.
 */
@ScimController('')
export class RootSearchController {
  constructor(
    private readonly users: UsersService,
    private readonly groups: GroupsService,
    @Inject(SCIM_CONFIG) private readonly config: ScimConfig,
  ) {}

  @Post('.search')
  @HttpCode(200)
  @ScimJson()
  search(@Scim() ctx: ScimContext, @Body() body: unknown): Promise<CrossTypeResult> {
    if (ctx.profile === 'aws')
      // IAM Identity Center has no search at the root; the profile answers as it would.
      throw new ScimError(
        404,
        undefined,
        'POST /.search across resource types is not supported; use /Users or /Groups',
      );
    const q = parseListQuery(searchRequestQuery(body), ctx.profile, this.config.SCIM_MAX_PAGE_SIZE);
    if (q.sortBy)
      throw ScimError.invalidValue(
        'sortBy is not supported when searching across resource types; use /Users/.search or /Groups/.search',
      );
    const split = q.filter ? splitFilter(q.filter, ctx) : { users: true, groups: true };
    const page = (filter: ListQuery['filter'], startIndex: number, count: number): ListQuery => ({
      ...q,
      filter,
      startIndex,
      count,
    });
    return searchAcross(
      [
        { filter: split.users, list: (f, i, n) => this.users.list(ctx, page(f, i, n)) },
        { filter: split.groups, list: (f, i, n) => this.groups.list(ctx, page(f, i, n)) },
      ],
      q.startIndex,
      q.count,
    );
  }
}
