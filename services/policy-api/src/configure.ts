import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { serveOpenApi } from './openapi';

/** App-level wiring shared by main.ts and the tests: OpenAPI route, JSON-only bodies. */
export function configureApp(app: NestFastifyApplication): void {
  // Bodies are JSON only; a text/plain body is refused (415) rather than half-parsed.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  serveOpenApi(app);
}
