import { HttpException } from '@nestjs/common';
import { parseIfMatch, requireMatch } from '../../src/beneficiaries/if-match';

// The If-Match grammar (RFC 9110 §13.1.1) without a server: what parseIfMatch and requireMatch
// decide. test/integration/if-match.spec.ts drives the same rules over HTTP and checks that
// nothing is stored.
const failure = (f: () => unknown): { status: number; body: unknown } => {
  try {
    f();
  } catch (err) {
    if (err instanceof HttpException) return { status: err.getStatus(), body: err.getResponse() };
    throw err;
  }
  throw new Error('did not throw');
};

describe('If-Match parsing and strong comparison', () => {
  it.each([
    ['an unquoted tag', 'v1'],
    ['an unquoted weak tag', 'W/v1'],
    ['a tag without its closing quote', '"v1'],
    ['a tag without its opening quote', 'v1"'],
    ['a lower-case weak prefix', 'w/"v1"'],
    ['two tags without a comma', '"v1" "v2"'],
    ['a space inside the quotes', '"v 1"'],
    ['* in a list', '*, "v1"'],
    ['a tab inside the quotes', '"v\t1"'],
  ])('400 validation_failed for %s', (_what, header) => {
    expect(failure(() => parseIfMatch(header))).toEqual({
      status: 400,
      body: {
        error: 'validation_failed',
        message: expect.any(String),
        details: [
          {
            field: 'If-Match',
            message:
              'If-Match must be * or a comma-separated list of quoted entity-tags, e.g. "v3"',
          },
        ],
      },
    });
  });

  it.each([
    ['the current tag', '"v1"'],
    ['the current tag with spaces around it', '  "v1"  '],
    ['a list naming it', '"v9", "v1"'],
    ['a list with empty elements (RFC 9110 §5.6.1)', ', "v1" ,,'],
  ])('matches %s', (_what, header) => {
    expect(() => requireMatch(parseIfMatch(header), '"v1"')).not.toThrow();
  });

  it.each([
    ['a stale tag', '"v2"'],
    ['a weak tag (strong comparison never matches it)', 'W/"v1"'],
    ['a tag naming something else', '"1"'],
  ])('412 precondition_failed for %s', (_what, header) => {
    const r = failure(() => requireMatch(parseIfMatch(header), '"v1"'));
    expect(r).toEqual({
      status: 412,
      body: expect.objectContaining({ error: 'precondition_failed' }),
    });
  });

  it('412 when there is no current policy, whatever the tag', () => {
    expect(failure(() => requireMatch(parseIfMatch('"v1"'), undefined)).status).toBe(412);
  });

  it.each([
    ['*', '*'],
    ['an empty value', ''],
    ['only spaces', '   '],
    ['no header', undefined],
    ['only empty list elements (RFC 9110 §5.6.1: they do not count)', ' , ,,'],
  ])('428 precondition_required for %s', (_what, header) => {
    expect(failure(() => parseIfMatch(header))).toEqual({
      status: 428,
      body: expect.objectContaining({ error: 'precondition_required' }),
    });
  });

  it('keeps a comma inside quotes as part of the tag', () => {
    expect(parseIfMatch('"a,b", W/"c"')).toEqual(['"a,b"']);
  });
});
