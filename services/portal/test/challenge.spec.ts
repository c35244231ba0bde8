import { parseWwwAuthenticate, stepUpChallengeOf } from '../src/policy/challenge';

describe('WWW-Authenticate parsing', () => {
  it('reads the RFC 9470 step-up challenge the policy API sends', () => {
    const h = 'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="b2c_1_signupsignin_mfa", max_age=600';
    expect(stepUpChallengeOf(h)).toEqual({ acrValues: ['b2c_1_signupsignin_mfa'], maxAge: 600 });
  });

  it('accepts several acr values, no max_age, odd spacing and case in scheme and names', () => {
    expect(stepUpChallengeOf('bearer  ERROR = "insufficient_user_authentication" ,ACR_VALUES="a b  c"')).toEqual({ acrValues: ['a', 'b', 'c'] });
  });

  it('accepts max_age quoted and ignores a malformed one', () => {
    expect(stepUpChallengeOf('Bearer error="insufficient_user_authentication", max_age="300"')).toEqual({ acrValues: [], maxAge: 300 });
    expect(stepUpChallengeOf('Bearer error="insufficient_user_authentication", max_age=soon')).toEqual({ acrValues: [] });
  });

  it('is not a step-up for other Bearer errors, other schemes or nothing', () => {
    expect(stepUpChallengeOf('Bearer error="invalid_token", error_description="expired"')).toBeUndefined();
    expect(stepUpChallengeOf('Bearer realm="policy-api"')).toBeUndefined();
    expect(stepUpChallengeOf('Basic realm="x", error="insufficient_user_authentication"')).toBeUndefined();
    expect(stepUpChallengeOf('')).toBeUndefined();
    expect(stepUpChallengeOf(null)).toBeUndefined();
  });

  it('finds the Bearer challenge among several, with escapes in quoted strings', () => {
    const h = 'Basic realm="a, b", DPoP algs="ES256 PS256", Bearer realm="x\\"y", error="insufficient_user_authentication", acr_values="mfa"';
    const all = parseWwwAuthenticate(h);
    expect(all.map((c) => c.scheme)).toEqual(['basic', 'dpop', 'bearer']);
    expect(all[0].params.realm).toBe('a, b');
    expect(all[2].params).toEqual({ realm: 'x"y', error: 'insufficient_user_authentication', acr_values: 'mfa' });
    expect(stepUpChallengeOf(h)).toEqual({ acrValues: ['mfa'] });
  });

  it('keeps a token68 and survives garbage without throwing', () => {
    expect(parseWwwAuthenticate('Negotiate abc123==, Bearer')).toEqual([
      { scheme: 'negotiate', params: { token68: 'abc123==' } },
      { scheme: 'bearer', params: {} },
    ]);
    for (const junk of ['=', '"', ',,,', 'Bearer error="unterminated', 'Bearer error=', '\u0000\u00ff']) {
      expect(() => parseWwwAuthenticate(junk)).not.toThrow();
    }
    expect(stepUpChallengeOf('Bearer error="insufficient_user_authentication')).toEqual({ acrValues: [] });
  });
});
