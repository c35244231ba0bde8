// The keys interface: key bundles (public JWK only) and the private-key
// operations sign/verify over client-computed digests.
import type { FastifyInstance } from 'fastify';
import { keyBundle, keyId, keyItem } from './bundles';
import type { RouteContext } from './context';
import { createKeyBody, parseBody, signBody, verifyBody } from './schemas';

interface NameParams {
  name: string;
  version?: string;
}

export function registerKeyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { vault } = ctx;

  app.get('/keys', async (req) => {
    ctx.authorize(req, 'keys/read', { collection: 'keys' });
    const base = ctx.base(req);
    return {
      value: vault.keys().map((k) => keyItem(base, k, k.versions[k.versions.length - 1], false)),
      nextLink: null,
    };
  });

  app.get<{ Params: NameParams }>('/keys/:name/versions', async (req) => {
    ctx.authorize(req, 'keys/read', { collection: 'keys', name: req.params.name });
    const { key } = vault.key(req.params.name);
    const base = ctx.base(req);
    return { value: key.versions.map((v) => keyItem(base, key, v, true)), nextLink: null };
  });

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

  app.post<{ Params: NameParams }>('/keys/:name/create', async (req) => {
    ctx.authorize(req, 'keys/create/action', { collection: 'keys', name: req.params.name });
    const body = parseBody(createKeyBody, req.body);
    const { key, version } = await vault.createKey(req.params.name, {
      kty: body.kty,
      keySize: body.key_size,
      curve: body.crv,
      keyOps: body.key_ops,
      enabled: body.attributes?.enabled,
      nbf: body.attributes?.nbf,
      exp: body.attributes?.exp,
      exportable: body.attributes?.exportable,
      tags: body.tags,
    });
    return keyBundle(ctx.base(req), key, version);
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

  for (const path of ['/keys/:name/:version/verify', '/keys/:name/verify']) {
    app.post<{ Params: NameParams }>(path, async (req) => {
      ctx.authorize(req, 'keys/verify/action', { collection: 'keys', name: req.params.name });
      const body = parseBody(verifyBody, req.body);
      const value = vault.verify(
        req.params.name,
        req.params.version,
        body.alg,
        Buffer.from(body.digest, 'base64url'),
        Buffer.from(body.value, 'base64url'),
      );
      return { value };
    });
  }
}
