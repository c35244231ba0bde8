import { BearerChallenges, formatWwwAuthenticate, parseAuthorizationHeader } from '../../src';

describe('parseAuthorizationHeader', () => {
  it.each([
    [undefined, { kind: 'missing' }],
    ['', { kind: 'missing' }],
    ['Basic dXNlcjpwYXNz', { kind: 'missing' }],
    ['Bearerabc', { kind: 'missing' }],
    ['Bearer', { kind: 'malformed' }],
    ['Bearer a b', { kind: 'malformed' }],
    ['Bearer a\u00e9', { kind: 'malformed' }],
    [['Bearer a', 'Bearer b'], { kind: 'malformed' }],
    ['Bearer abc.def-_~+/==', { kind: 'token', token: 'abc.def-_~+/==' }],
    ['BEARER   x.y.z  ', { kind: 'token', token: 'x.y.z' }],
  ])('%j', (header, expected) => {
    expect(parseAuthorizationHeader(header)).toEqual(expected);
  });
});

describe('formatWwwAuthenticate', () => {
  it('formats each challenge', () => {
    expect(formatWwwAuthenticate(BearerChallenges.missingToken(), 'api')).toBe(
      'Bearer realm="api"',
    );
    expect(
      formatWwwAuthenticate(BearerChallenges.invalidToken('The access token is invalid'), 'api'),
    ).toBe('Bearer error="invalid_token", error_description="The access token is invalid"');
    expect(
      formatWwwAuthenticate(BearerChallenges.insufficientScope('d', ['A.Read', 'A.Write']), 'api'),
    ).toBe('Bearer error="insufficient_scope", error_description="d", scope="A.Read A.Write"');
    expect(formatWwwAuthenticate(BearerChallenges.stepUp('d', ['b2c_1_mfa'], 600), 'api')).toBe(
      'Bearer error="insufficient_user_authentication", error_description="d", acr_values="b2c_1_mfa", max_age=600',
    );
  });

  it('escapes quotes and backslashes in quoted strings', () => {
    expect(formatWwwAuthenticate(BearerChallenges.missingToken(), 'a "b" \\c')).toBe(
      'Bearer realm="a \\"b\\" \\\\c"',
    );
  });
});
