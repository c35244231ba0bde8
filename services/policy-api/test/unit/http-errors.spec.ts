import { Body, Controller, Get, Module, Put, Query } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '@idp/service-kit';
import { ReplaceBeneficiariesDto } from '../../src/beneficiaries/beneficiary.dto';
import { Errors } from '../../src/common/api-error';
import { ErrorShapeFilter } from '../../src/common/error-shape.filter';
import { acceptJsonBodiesOnly } from '../../src/common/json-bodies';
import { validationPipe } from '../../src/common/validation';
import { HistoryQuery } from '../../src/history/history.dto';
import { apiErrorShapeProblem } from '../support/api-error-shape';

// The HTTP error layer without a database or tokens: the real body parsing, validation pipe and
// exception filter in front of stub routes, driven with fastify inject. The integration specs
// (body-validation, fuzz) send the same kinds of requests to the whole API and also check that
// nothing is stored.
@Controller()
class StubController {
  @Put('body')
  put(@Body() body: ReplaceBeneficiariesDto): { count: number } {
    return { count: body.beneficiaries.length };
  }

  @Get('query')
  get(@Query() q: HistoryQuery): HistoryQuery {
    return q;
  }

  @Get('boom')
  boom(): never {
    throw new Error('database password=hunter2 leaked into a message');
  }

  @Get('gone')
  gone(): never {
    throw Errors.policyNotFound();
  }
}

@Module({
  controllers: [StubController],
  providers: [
    { provide: APP_PIPE, useFactory: validationPipe },
    { provide: APP_FILTER, useClass: ErrorShapeFilter },
  ],
})
class StubModule {}

describe('error shapes of the HTTP layer (fastify inject)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp(StubModule, { service: 'policy-api', logLevel: 'silent' });
    acceptJsonBodiesOnly(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app?.close();
  });

  const ann = { name: 'Ann Example', relationship: 'spouse', sharePercent: 100 };
  async function send(
    method: 'GET' | 'PUT',
    url: string,
    payload?: string,
    contentType = 'application/json',
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method,
        url,
        ...(payload !== undefined ? { payload, headers: { 'content-type': contentType } } : {}),
      });
    const body = JSON.parse(r.body) as Record<string, unknown>;
    expect(apiErrorShapeProblem(body)).toBeUndefined();
    return { status: r.statusCode, body };
  }

  it.each([
    [
      'an array inside the list',
      '{"beneficiaries":[[]]}',
      [{ field: 'beneficiaries[0]', message: 'each beneficiary must be an object' }],
    ],
    ['a null body', 'null', [{ field: 'body', message: 'body must be a JSON object' }]],
    [
      'an empty list',
      '{"beneficiaries":[]}',
      [{ field: 'beneficiaries', message: 'beneficiaries must contain at least 1 item' }],
    ],
    [
      'shares adding up to 90',
      JSON.stringify({ beneficiaries: [{ ...ann, sharePercent: 90 }] }),
      [{ field: 'beneficiaries', message: 'sharePercent values must add up to 100' }],
    ],
    [
      'a prototype-named key',
      '{"beneficiaries":[{"name":"Ann","relationship":"spouse","sharePercent":100,"__proto__":{"polluted":1}}]}',
      [
        {
          field: 'beneficiaries[0].__proto__',
          message: '__proto__ is a reserved name, not an allowed field',
        },
      ],
    ],
    [
      'a bidi override in a name',
      JSON.stringify({ beneficiaries: [{ ...ann, name: 'Ann\u202EExample' }] }),
      [
        {
          field: 'beneficiaries[0].name',
          message:
            'name must not contain bidirectional-override or invisible formatting characters',
        },
      ],
    ],
  ])('400 validation_failed naming the rule: %s', async (_what, raw, details) => {
    const r = await send('PUT', '/body', raw);
    expect(r).toEqual({
      status: 400,
      body: { error: 'validation_failed', message: expect.any(String), details },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts a valid body (application/json in any letter case, charset=utf-8)', async () => {
    const r = await app
      .getHttpAdapter()
      .getInstance()
      .inject({
        method: 'PUT',
        url: '/body',
        payload: JSON.stringify({ beneficiaries: [ann] }),
        headers: { 'content-type': 'Application/JSON; charset=UTF-8' },
      });
    expect([r.statusCode, JSON.parse(r.body)]).toEqual([200, { count: 1 }]);
  });

  it.each([
    ['form-urlencoded', 'beneficiaries=Ann', 'application/x-www-form-urlencoded'],
    ['plain text', '{"beneficiaries":[]}', 'text/plain'],
    ['a +json type', '{"beneficiaries":[]}', 'application/merge-patch+json'],
    ['UTF-16 JSON', '{"beneficiaries":[]}', 'application/json; charset=utf-16'],
  ])('415 unsupported_media_type for %s', async (_what, raw, contentType) => {
    const r = await send('PUT', '/body', raw, contentType);
    expect([r.status, r.body.error]).toEqual([415, 'unsupported_media_type']);
  });

  it.each([
    ['a truncated document', '{"beneficiaries": ['],
    ['single quotes', "{'beneficiaries': []}"],
    ['an empty body', ''],
  ])('400 invalid_request for malformed JSON: %s', async (_what, raw) => {
    const r = await send('PUT', '/body', raw);
    expect([r.status, r.body.error]).toEqual([400, 'invalid_request']);
  });

  it('413 payload_too_large over 1 MiB', async () => {
    const r = await send('PUT', '/body', JSON.stringify({ x: 'a'.repeat(1024 * 1024) }));
    expect([r.status, r.body.error]).toEqual([413, 'payload_too_large']);
  });

  it.each([
    ['limit=0', [{ field: 'limit', message: 'limit must be at least 1' }]],
    ['limit=abc', [{ field: 'limit', message: 'limit must be an integer' }]],
    [
      'beforeVersion=1.5',
      [{ field: 'beforeVersion', message: 'beforeVersion must be an integer' }],
    ],
  ])('400 validation_failed for the query %s', async (query, details) => {
    const r = await send('GET', `/query?${query}`);
    expect(r).toEqual({
      status: 400,
      body: { error: 'validation_failed', message: expect.any(String), details },
    });
  });

  it('404 not_found for an unknown route and for a missing resource', async () => {
    expect((await send('GET', '/no-such-route')).body.error).toBe('not_found');
    expect(await send('GET', '/gone')).toEqual({
      status: 404,
      body: { error: 'not_found', message: 'No policy with this number' },
    });
  });

  it('500 internal_error for an unexpected failure, without its message', async () => {
    const r = await send('GET', '/boom');
    expect(r).toEqual({
      status: 500,
      body: { error: 'internal_error', message: 'Internal server error' },
    });
  });
});
