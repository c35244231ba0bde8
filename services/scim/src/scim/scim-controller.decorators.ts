import { applyDecorators, Controller, Header, UseFilters, UseGuards } from '@nestjs/common';
import { ScimAuthGuard } from '../tokens/scim-auth.guard';
import { ScimExceptionFilter } from './scim-exception.filter';
import { SCIM_CONTENT_TYPE } from './schemas';

/** A SCIM endpoint, served both at /scim/v2/<path> and /{directoryId}/scim/v2/<path>. */
export const ScimController = (path: string) =>
  applyDecorators(
    Controller([`scim/v2/${path}`, `:directoryId/scim/v2/${path}`]),
    UseGuards(ScimAuthGuard),
    UseFilters(ScimExceptionFilter),
  );

export const ScimJson = () => Header('Content-Type', SCIM_CONTENT_TYPE);
