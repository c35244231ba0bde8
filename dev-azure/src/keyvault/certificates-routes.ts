// The certificates interface, as far as the token broker and its rotation tests use it:
// create (self-signed; completes at once but is reported through a pending operation as
// Azure does, which beginCreateCertificate().pollUntilDone() polls) and get.
import type { FastifyInstance } from 'fastify';
import { certificateBundle, certificateOperation } from './bundles';
import type { RouteContext } from './context';
import { apiVersionOf } from './api-version';
import { KvError } from './errors';
import { createCertificateBody, parseBody } from './schemas';

interface NameParams {
  name: string;
  version?: string;
}

export function registerCertificateRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { vault } = ctx;

  app.get<{ Params: NameParams }>('/certificates/:name/pending', async (req) => {
    ctx.authorize(req, 'certificates/read', { collection: 'certificates', name: req.params.name });
    const op = certificateOperation(ctx.base(req), vault.certificateState(req.params.name));
    if (!op)
      throw new KvError(
        404,
        'PendingCertificateNotFound',
        `Pending certificate not found: ${req.params.name}`,
      );
    return op;
  });

  const getCertificate = async (req: { params: NameParams }, base: string) => {
    const { cert, version } = vault.certificate(req.params.name, req.params.version);
    return certificateBundle(base, cert, version);
  };
  app.get<{ Params: NameParams }>('/certificates/:name', async (req) => {
    ctx.authorize(req, 'certificates/read', { collection: 'certificates', name: req.params.name });
    return getCertificate(req, ctx.base(req));
  });
  app.get<{ Params: NameParams }>('/certificates/:name/:version', async (req) => {
    ctx.authorize(req, 'certificates/read', { collection: 'certificates', name: req.params.name });
    return getCertificate(req, ctx.base(req));
  });

  app.post<{ Params: NameParams }>('/certificates/:name/create', async (req, reply) => {
    ctx.authorize(req, 'certificates/create/action', {
      collection: 'certificates',
      name: req.params.name,
    });
    const body = parseBody(createCertificateBody, req.body);
    const cert = await vault.createCertificate(req.params.name, {
      policy: body.policy,
      enabled: body.attributes?.enabled,
    });
    const base = ctx.base(req);
    const op = certificateOperation(base, cert);
    if (!op) throw new Error('certificate operation missing after create');
    // Azure answers 202 with the operation in progress; clients poll /pending, which is already complete here.
    // The version the request hook accepted (a repeated one is given once).
    const apiVersion = apiVersionOf(req.query) ?? '';
    void reply
      .code(202)
      .header(
        'location',
        `${base}/certificates/${cert.name}/pending?api-version=${encodeURIComponent(apiVersion)}&request_id=${op.request_id}`,
      );
    const { target: _target, ...rest } = op;
    return {
      ...rest,
      status: 'inProgress',
      status_details: 'Pending certificate created. Certificate request is in progress.',
    };
  });
}
