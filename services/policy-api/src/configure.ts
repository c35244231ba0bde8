import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { acceptJsonBodiesOnly } from './common/json-bodies';
import { serveOpenApi } from './openapi';

/** Probes and metrics stay at the root whatever the base path, so Kubernetes finds them. */
const ROOT_ROUTES = ['healthz', 'readyz', 'metrics'];

/**
 * App-level wiring shared by main.ts and the tests: optional base path (the ingress routes
 * /api here without rewriting), OpenAPI route, JSON-only bodies.
 */
export function configureApp(app: NestFastifyApplication, basePath = ''): void {
  if (basePath) app.setGlobalPrefix(basePath, { exclude: ROOT_ROUTES });
  acceptJsonBodiesOnly(app);
  serveOpenApi(app, basePath);
}
