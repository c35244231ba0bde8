import {
  authContextClaimsRequest,
  BearerChallenges,
  checkStepUp,
  principalFromClaims,
  wwwAuthenticateValues,
  type ProviderRef,
} from '../../src';

// The framework-free step-up decision and the challenge formats, per provider kind.

const NOW = 1_800_000_000;
const CIAM: ProviderRef = { kind: 'external-id', name: 'external-id' };
const B2C: ProviderRef = { kind: 'b2c', name: 'b2c' };
const target = {
  realm: 'tid-1',
  authorizationUri: 'https://contosoid.ciamlogin.com/tid-1/oauth2/v2.0/authorize',
};

const user = (provider: ProviderRef | undefined, claims: Record<string, unknown>) =>
  principalFromClaims(
    { oid: 'o', sub: 's', scp: 'x', auth_time: NOW - 10, ...claims },
    { provider },
  );

describe('checkStepUp per provider', () => {
  it('fails closed (403) when the policy names only the other provider’s proof of MFA', () => {
    const ciam = user(CIAM, { acrs: ['c1'] });
    const b2c = user(B2C, { tfp: 'B2C_1_mfa' });
    const b2cOnly = { userFlows: ['B2C_1_mfa'], maxAgeSeconds: 600 };
    const ciamOnly = { authContext: 'c1', maxAgeSeconds: 600 };
    expect(checkStepUp(ciam, b2cOnly, NOW, 60, target)).toMatchObject({
      status: 403,
      error: 'insufficient_scope',
    });
    expect(checkStepUp(b2c, ciamOnly, NOW, 60)).toMatchObject({ status: 403 });
    expect(checkStepUp(ciam, ciamOnly, NOW, 60, target)).toBeUndefined();
    expect(checkStepUp(b2c, b2cOnly, NOW, 60)).toBeUndefined();
  });

  it('a principal from the top-level options (no provider) keeps the B2C rules', () => {
    const legacy = user(undefined, { tfp: 'B2C_1_mfa', acrs: ['c1'] });
    expect(checkStepUp(legacy, { userFlows: ['b2c_1_mfa'] }, NOW, 60)).toBeUndefined();
    expect(checkStepUp(legacy, { authContext: 'c1' }, NOW, 60)).toMatchObject({ status: 403 });
  });

  it('an auth_time in the future beyond the skew is refused like a stale one', () => {
    const ciam = user(CIAM, { acrs: ['c1'], auth_time: NOW + 120 });
    expect(
      checkStepUp(ciam, { authContext: 'c1', maxAgeSeconds: 600 }, NOW, 60, target),
    ).toMatchObject({
      status: 401,
      error: 'insufficient_user_authentication',
      description: 'More recent authentication is required',
    });
  });

  it('without a claims target only the RFC 9470 challenge is sent', () => {
    const challenge = checkStepUp(user(CIAM, {}), { authContext: 'c1' }, NOW, 60);
    expect(challenge && wwwAuthenticateValues(challenge, 'api')).toEqual([
      'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="c1"',
    ]);
  });
});

describe('Microsoft claims challenge format', () => {
  it('base64 with the standard alphabet and padding, of the minified claims request', () => {
    // 58 bytes of JSON: standard base64 pads with "==" (base64url would drop it).
    const c10 = authContextClaimsRequest('c10');
    expect(c10).toBe(
      'eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEwIn19fQ==',
    );
    expect(Buffer.from(c10, 'base64').toString()).toBe(
      '{"access_token":{"acrs":{"essential":true,"value":"c10"}}}',
    );
  });

  it('comes first, as its own challenge, with realm, authorization_uri, error and claims', () => {
    const challenge = BearerChallenges.stepUp('d', ['c1'], 600, {
      ...target,
      claims: authContextClaimsRequest('c1'),
    });
    expect(wwwAuthenticateValues(challenge, 'api')).toEqual([
      `Bearer realm="tid-1", authorization_uri="${target.authorizationUri}", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19"`,
      'Bearer error="insufficient_user_authentication", error_description="d", acr_values="c1", max_age=600',
    ]);
  });
});
