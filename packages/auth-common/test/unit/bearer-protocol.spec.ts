import { validateHeaderValue } from 'node:http';
import {
  BearerChallenges,
  formatWwwAuthenticate,
  parseAuthorizationHeader,
  wwwAuthenticateValues,
} from '../../src';

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

  it('sends only visible ASCII, so Node accepts the header (a non-ASCII character made the response hang)', () => {
    const challenge = BearerChallenges.stepUp('The daemons\u2019 tenant \u00e9\n', ['c1'], 60, {
      realm: 't\u00fcnant',
      authorizationUri: 'https://login.example/t\u00fc/authorize',
      claims: 'e30=',
    });
    const values = wwwAuthenticateValues(challenge, 'r\u00e9alm');
    expect(values[1]).toBe(
      'Bearer error="insufficient_user_authentication", error_description="The daemons? tenant ??", acr_values="c1", max_age=60',
    );
    for (const v of values) expect(() => validateHeaderValue('www-authenticate', v)).not.toThrow();
    expect(() =>
      validateHeaderValue(
        'www-authenticate',
        formatWwwAuthenticate(BearerChallenges.missingToken(), 'r\u00e9alm'),
      ),
    ).not.toThrow();
  });

  it('escapes quotes and backslashes in quoted strings', () => {
    expect(formatWwwAuthenticate(BearerChallenges.missingToken(), 'a "b" \\c')).toBe(
      'Bearer realm="a \\"b\\" \\\\c"',
    );
  });
});
