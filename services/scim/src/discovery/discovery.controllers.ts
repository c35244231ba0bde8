import { Get, Inject, Param, Query } from '@nestjs/common';
import { SCIM_CONFIG, type ScimConfig } from '../config';
import { AWS_SERVICE_PROVIDER_CONFIG } from '../profiles/aws-profile';
import { Scim, type ScimContext } from '../scim/request-context';
import { ScimController, ScimJson } from '../scim/scim-controller.decorators';
import { ScimError } from '../scim/scim-error';
import { URN } from '../scim/schemas';
import { resourceTypeDocuments, schemaDocuments, serviceProviderConfig } from './schema-documents';

const listOf = <T>(items: T[]) => ({
  schemas: [URN.listResponse],
  totalResults: items.length,
  itemsPerPage: items.length,
  startIndex: 1,
  Resources: items,
});

/**
 * RFC 7644 §4: discovery endpoints do not filter, and SHOULD answer a filter with 403 so that a
 * client cannot take the full list for the filtered one.
 */
function refuseFilter(filter: unknown): void {
  if (filter !== undefined)
    throw new ScimError(403, undefined, 'Discovery endpoints do not support filter');
}

@ScimController('ServiceProviderConfig')
export class ServiceProviderConfigController {
  constructor(@Inject(SCIM_CONFIG) private readonly config: ScimConfig) {}

  @Get()
  @ScimJson()
  get(@Scim() ctx: ScimContext, @Query('filter') filter?: unknown) {
    refuseFilter(filter);
    return ctx.profile === 'aws'
      ? AWS_SERVICE_PROVIDER_CONFIG
      : serviceProviderConfig(ctx.baseUrl, this.config.SCIM_MAX_PAGE_SIZE);
  }
}

@ScimController('Schemas')
export class SchemasController {
  @Get()
  @ScimJson()
  list(@Scim() ctx: ScimContext, @Query('filter') filter?: unknown) {
    refuseFilter(filter);
    return listOf(schemaDocuments(ctx.baseUrl, ctx));
  }

  @Get(':id')
  @ScimJson()
  get(@Scim() ctx: ScimContext, @Param('id') id: string) {
    const s = schemaDocuments(ctx.baseUrl, ctx).find(
      (d) => d.id.toLowerCase() === id.toLowerCase(),
    );
    if (!s) throw ScimError.notFound('Schema', id);
    return s;
  }
}

@ScimController('ResourceTypes')
export class ResourceTypesController {
  @Get()
  @ScimJson()
  list(@Scim() ctx: ScimContext, @Query('filter') filter?: unknown) {
    refuseFilter(filter);
    return listOf(resourceTypeDocuments(ctx.baseUrl, ctx.extensions));
  }

  @Get(':id')
  @ScimJson()
  get(@Scim() ctx: ScimContext, @Param('id') id: string) {
    const r = resourceTypeDocuments(ctx.baseUrl, ctx.extensions).find(
      (d) => d.id.toLowerCase() === id.toLowerCase(),
    );
    if (!r) throw ScimError.notFound('ResourceType', id);
    return r;
  }
}
