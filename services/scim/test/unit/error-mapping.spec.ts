import type { ArgumentsHost } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { VersionConflict } from '../../src/events/retry';
import { ScimExceptionFilter } from '../../src/scim/scim-exception.filter';

/** Renders an exception through the filter and returns what the client would get. */
function render(exception: unknown) {
  const sent: { status?: number; headers: Record<string, string>; body?: Record<string, unknown> } =
    { headers: {} };
  const reply = {
    header(k: string, v: string) {
      sent.headers[k.toLowerCase()] = v;
      return reply;
    },
    status(s: number) {
      sent.status = s;
      return reply;
    },
    send(b: Record<string, unknown>) {
      sent.body = b;
      return reply;
    },
  };
  const req = { id: 'req-1', raw: {} };
  const host = {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply }),
  } as unknown as ArgumentsHost;
  new ScimExceptionFilter().catch(exception, host);
  return sent;
}

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('SCIM error mapping', () => {
  it('turns database refusals of client values into SCIM errors, not 500s', () => {
    expect(render(pgError('23505'))).toMatchObject({
      status: 409,
      body: { scimType: 'uniqueness', status: '409' },
    });
    expect(render(pgError('23503'))).toMatchObject({
      status: 400,
      body: { scimType: 'invalidValue' },
    });
    for (const code of ['22021', '54000', '22001'])
      expect(render(pgError(code))).toMatchObject({
        status: 400,
        body: { scimType: 'invalidValue' },
      });
    expect(render(new VersionConflict())).toMatchObject({ status: 409 });
  });

  it('answers anything unexpected with a generic 500 in the SCIM error schema, without internals', () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const r = render(new Error('connection to 10.0.0.5:5432 refused, password=hunter2'));
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(r.body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '500',
      detail: 'Internal error',
    });
  });
});
