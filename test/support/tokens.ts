// Real tokens from dev-azure, shaped exactly as the user flows / client credentials issue them.
import type { Stack } from './stack';

export const SIGN_IN_FLOW = 'B2C_1_signupsignin';
export const MFA_FLOW = 'B2C_1_signupsignin_mfa';

/** A B2C access token for the policy API, issued to the portal (as after its sign-in). */
export function userToken(
  stack: Stack,
  email: string,
  flow: string = SIGN_IN_FLOW,
): Promise<string> {
  const apiUri =
    stack.seed
      .app(stack.seed.contoso, 'policy-api')
      .identifierUris.find((u) => u.startsWith('https://')) ?? '';
  return stack.azure.identity.issueUserAccessToken({
    tenant: stack.seed.contoso.name,
    flow,
    userEmail: email,
    clientId: stack.seed.app(stack.seed.contoso, 'portal').clientId,
    scopes: [`${apiUri}/Accounts.Read`, `${apiUri}/Accounts.Write`],
  });
}

/** An app-only token of the SCIM admin app (app role Scim.Admin on the scim API). */
export function scimAdminToken(stack: Stack): Promise<string> {
  return stack.azure.identity.issueAppAccessToken({
    tenant: stack.seed.fabrikam.name,
    clientId: stack.seed.app(stack.seed.fabrikam, 'scim-admin').clientId,
    scope: 'api://scim/.default',
  });
}
