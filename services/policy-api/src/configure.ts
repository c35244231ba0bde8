import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { serveOpenApi } from './openapi';

/** Probes and metrics stay at the root whatever the base path, so Kubernetes finds them. */
const ROOT_ROUTES = ['healthz', 'readyz', 'metrics'];

/**
 * App-level wiring shared by main.ts and the tests: optional base path (the ingress routes
 * /api here without rewriting), OpenAPI route, JSON-only bodies.
 */
export function configureApp(app: NestFastifyApplication, basePath = ''): void {
  if (basePath) app.setGlobalPrefix(basePath, { exclude: ROOT_ROUTES });
  // Bodies are JSON only; a text/plain body is refused (415) rather than half-parsed.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  serveOpenApi(app, basePath);
}
