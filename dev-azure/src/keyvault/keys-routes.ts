// The keys interface, as far as the token broker uses it: a certificate's key as a public JWK
// (CryptographyClient reads it first) and sign over a client-computed digest.
import type { FastifyInstance } from 'fastify';
import { keyBundle, keyId } from './bundles';
import type { RouteContext } from './context';
import { parseBody, signBody } from './schemas';

interface NameParams {
  name: string;
  version?: string;
}

export function registerKeyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { vault } = ctx;

  const getKey = async (req: { params: NameParams }, base: string) => {
    const { key, version } = vault.key(req.params.name, req.params.version);
    return keyBundle(base, key, version);
  };
  app.get<{ Params: NameParams }>('/keys/:name', async (req) => {
    ctx.authorize(req, 'keys/read', { collection: 'keys', name: req.params.name });
    return getKey(req, ctx.base(req));
  });
  app.get<{ Params: NameParams }>('/keys/:name/:version', async (req) => {
    ctx.authorize(req, 'keys/read', { collection: 'keys', name: req.params.name });
    return getKey(req, ctx.base(req));
  });

  // A kid without a version addresses the current version (the SDK then sends `/keys/{name}//sign`).
  for (const path of ['/keys/:name/:version/sign', '/keys/:name/sign']) {
    app.post<{ Params: NameParams }>(path, async (req) => {
      ctx.authorize(req, 'keys/sign/action', { collection: 'keys', name: req.params.name });
      const body = parseBody(signBody, req.body);
      const { key, version, signature } = vault.sign(
        req.params.name,
        req.params.version,
        body.alg,
        Buffer.from(body.value, 'base64url'),
      );
      return {
        kid: keyId(ctx.base(req), key.name, version.version),
        value: signature.toString('base64url'),
      };
    });
  }
}
