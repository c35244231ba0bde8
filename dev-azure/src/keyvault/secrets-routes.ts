// The secrets interface, limited to the secret face of certificates: the
// certificate with its private key (PFX or PEM), only when exportable.
import type { FastifyInstance } from 'fastify';
import { secretBundle, secretItem } from './bundles';
import type { RouteContext } from './context';
import { secretNotFound } from './errors';

interface NameParams {
  name: string;
  version?: string;
}

export function registerSecretRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { vault } = ctx;

  app.get('/secrets', async (req) => {
    ctx.authorize(req, 'secrets/readMetadata/action', { collection: 'secrets' });
    const base = ctx.base(req);
    return {
      value: vault
        .certificates()
        .map((c) => secretItem(base, c, c.versions[c.versions.length - 1], false)),
      nextLink: null,
    };
  });

  app.get<{ Params: NameParams }>('/secrets/:name/versions', async (req) => {
    ctx.authorize(req, 'secrets/readMetadata/action', {
      collection: 'secrets',
      name: req.params.name,
    });
    const cert = vault
      .certificates()
      .find((c) => c.name.toLowerCase() === req.params.name.toLowerCase());
    if (!cert) throw secretNotFound(req.params.name);
    const base = ctx.base(req);
    return { value: cert.versions.map((v) => secretItem(base, cert, v, true)), nextLink: null };
  });

  const getSecret = async (req: { params: NameParams }, base: string) => {
    const { cert, version, value } = vault.secret(req.params.name, req.params.version);
    return secretBundle(base, cert, version, value);
  };
  app.get<{ Params: NameParams }>('/secrets/:name', async (req) => {
    ctx.authorize(req, 'secrets/getSecret/action', {
      collection: 'secrets',
      name: req.params.name,
    });
    return getSecret(req, ctx.base(req));
  });
  app.get<{ Params: NameParams }>('/secrets/:name/:version', async (req) => {
    ctx.authorize(req, 'secrets/getSecret/action', {
      collection: 'secrets',
      name: req.params.name,
    });
    return getSecret(req, ctx.base(req));
  });
}
