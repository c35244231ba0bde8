import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** Builds the OpenAPI document from the controllers and DTOs and serves it at GET <base>/openapi.json. */
export function serveOpenApi(app: NestFastifyApplication, basePath = ''): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('policy-api')
    .setDescription(
      'Policies and beneficiaries of Contoso Insurance customers. Delegated B2C tokens (scopes Accounts.Read / Accounts.Write, ' +
        'beneficiary changes need an MFA step-up token) and app-only tokens (app role Policies.Read.All).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  app
    .getHttpAdapter()
    .getInstance()
    .get(`${basePath}/openapi.json`, (_req, reply) => {
      void reply.header('Cache-Control', 'public, max-age=60').send(document);
    });
  return document;
}
