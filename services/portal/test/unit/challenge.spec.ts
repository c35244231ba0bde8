import {
  decodeClaimsChallenge,
  externalIdStepUp,
  parseWwwAuthenticate,
  stepUpChallengeOf,
} from '../../src/policy/challenge';

describe('WWW-Authenticate parsing', () => {
  it('reads the RFC 9470 step-up challenge the policy API sends', () => {
    const h =
      'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="b2c_1_signupsignin_mfa", max_age=600';
    expect(stepUpChallengeOf(h)).toEqual({ acrValues: ['b2c_1_signupsignin_mfa'], maxAge: 600 });
  });

  it('accepts several acr values, no max_age, odd spacing and case in scheme and names', () => {
    expect(
      stepUpChallengeOf('bearer  ERROR = "insufficient_user_authentication" ,ACR_VALUES="a b  c"'),
    ).toEqual({ acrValues: ['a', 'b', 'c'] });
  });

  it('accepts max_age quoted and ignores a malformed one', () => {
    expect(
      stepUpChallengeOf('Bearer error="insufficient_user_authentication", max_age="300"'),
    ).toEqual({ acrValues: [], maxAge: 300 });
    expect(
      stepUpChallengeOf('Bearer error="insufficient_user_authentication", max_age=soon'),
    ).toEqual({ acrValues: [] });
  });

  it('is not a step-up for other Bearer errors, other schemes or nothing', () => {
    expect(
      stepUpChallengeOf('Bearer error="invalid_token", error_description="expired"'),
    ).toBeUndefined();
    expect(stepUpChallengeOf('Bearer realm="policy-api"')).toBeUndefined();
    expect(
      stepUpChallengeOf('Basic realm="x", error="insufficient_user_authentication"'),
    ).toBeUndefined();
    expect(stepUpChallengeOf('')).toBeUndefined();
    expect(stepUpChallengeOf(null)).toBeUndefined();
  });

  it('finds the Bearer challenge among several, with escapes in quoted strings', () => {
    const h =
      'Basic realm="a, b", DPoP algs="ES256 PS256", Bearer realm="x\\"y", error="insufficient_user_authentication", acr_values="mfa"';
    const all = parseWwwAuthenticate(h);
    expect(all.map((c) => c.scheme)).toEqual(['basic', 'dpop', 'bearer']);
    expect(all[0]?.params.realm).toBe('a, b');
    expect(all[2]?.params).toEqual({
      realm: 'x"y',
      error: 'insufficient_user_authentication',
      acr_values: 'mfa',
    });
    expect(stepUpChallengeOf(h)).toEqual({ acrValues: ['mfa'] });
  });

  it('keeps a token68 and survives garbage without throwing', () => {
    expect(parseWwwAuthenticate('Negotiate abc123==, Bearer')).toEqual([
      { scheme: 'negotiate', params: { token68: 'abc123==' } },
      { scheme: 'bearer', params: {} },
    ]);
    for (const junk of [
      '=',
      '"',
      ',,,',
      'Bearer error="unterminated',
      'Bearer error=',
      '\u0000\u00ff',
    ]) {
      expect(() => parseWwwAuthenticate(junk)).not.toThrow();
    }
    expect(stepUpChallengeOf('Bearer error="insufficient_user_authentication')).toEqual({
      acrValues: [],
    });
  });
});

describe('Microsoft claims challenge (External ID step-up)', () => {
  const C1 = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
  const standard = Buffer.from(C1).toString('base64'); // what Microsoft (and policy-api) send, padded
  // policy-api's two fields, joined by fetch's Headers.get with ", ".
  const header = [
    `Bearer realm="4e1a444d-77f8-471f-a8bf-855567bb2e46", authorization_uri="https://contosoext.ciamlogin.com/4e1a444d-77f8-471f-a8bf-855567bb2e46/oauth2/v2.0/authorize", error="insufficient_claims", claims="${standard}"`,
    'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="c1", max_age=600',
  ].join(', ');

  it('decodes the claims request beside the RFC 9470 parameters', () => {
    expect(stepUpChallengeOf(header)).toEqual({ acrValues: ['c1'], maxAge: 600, claims: C1 });
    // Standard alphabet with + / and padding.
    const odd = '{"access_token":{"acrs":{"essential":true,"value":"c1"}},"x":"??>>"}';
    const b64 = Buffer.from(odd).toString('base64');
    expect(b64).toMatch(/[+/].*=$/);
    expect(stepUpChallengeOf(`Bearer error="insufficient_claims", claims="${b64}"`)?.claims).toBe(
      odd,
    );
  });

  it('takes the claims challenge alone, and base64url too', () => {
    const url = Buffer.from(
      '{"access_token":{"acrs":{"essential":true,"value":"c2"}},"x":"??>>"}',
    ).toString('base64url');
    expect(
      stepUpChallengeOf(`Bearer realm="t", error="insufficient_claims", claims="${url}"`),
    ).toEqual({
      acrValues: [],
      claims: '{"access_token":{"acrs":{"essential":true,"value":"c2"}},"x":"??>>"}',
    });
  });

  it('ignores claims that are not a base64 JSON object', () => {
    for (const bad of [
      'not base64!',
      Buffer.from('[1,2]').toString('base64'),
      Buffer.from('"c1"').toString('base64'),
      Buffer.from('{oops').toString('base64'),
      'A'.repeat(5000),
    ]) {
      expect(decodeClaimsChallenge(bad)).toBeUndefined();
      expect(
        stepUpChallengeOf(`Bearer error="insufficient_claims", claims="${bad}"`),
      ).toBeUndefined();
    }
    expect(
      stepUpChallengeOf('Bearer error="invalid_token", claims="' + standard + '"'),
    ).toBeUndefined();
  });
});

describe('External ID step-up authorize options', () => {
  it('sends the claims request, and forces a fresh sign-in when the API gives max_age', () => {
    const claims = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}';
    expect(externalIdStepUp({ acrValues: ['c1'], maxAge: 600, claims })).toEqual({
      claims,
      prompt: 'login',
      maxAge: 600,
    });
    expect(externalIdStepUp({ acrValues: [], claims })).toEqual({ claims });
  });

  it('builds the claims request from an RFC 9470 authentication context alone', () => {
    expect(externalIdStepUp({ acrValues: ['c7'], maxAge: 300 })).toEqual({
      claims: '{"access_token":{"acrs":{"essential":true,"value":"c7"}}}',
      prompt: 'login',
      maxAge: 300,
    });
    // Not an authentication context id: no claims to ask for, so at least a fresh sign-in.
    expect(externalIdStepUp({ acrValues: ['b2c_1_mfa'] })).toEqual({ prompt: 'login' });
  });
});
