// Cross-reference checks zod cannot express: uniqueness and references
// between tenants, apps, grants, flows and the vault.
import { passwordPolicyProblem } from '../identity/signin/password-policy';
import { GRAPH_APP, isGraphReference } from './graph';
import type { AppConfig, DevAzureConfig, TenantConfig } from './schema';

export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';

/** Finds a resource app in `tenant` by name, client id or identifier URI. */
export function findResourceApp(tenant: TenantConfig, ref: string): AppConfig | undefined {
  if (isGraphReference(tenant, ref)) return GRAPH_APP;
  const lower = ref.toLowerCase();
  return tenant.apps.find(
    (a) =>
      a.name === ref ||
      a.clientId.toLowerCase() === lower ||
      a.identifierUris.some((u) => u.toLowerCase() === lower.replace(/\/+$/, '')),
  );
}

export function findTenant(cfg: DevAzureConfig, ref: string): TenantConfig | undefined {
  const lower = ref.toLowerCase().replace(/\.onmicrosoft\.com$/, '');
  return cfg.tenants.find((t) => t.name === lower || t.id.toLowerCase() === lower);
}

export function checkReferences(cfg: DevAzureConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message });

  duplicates(
    cfg.tenants.map((t) => t.name),
    (i, v) => add(['tenants', i, 'name'], `duplicate tenant name "${v}"`),
  );
  duplicates(
    cfg.tenants.map((t) => t.id.toLowerCase()),
    (i, v) => add(['tenants', i, 'id'], `duplicate tenant id ${v}`),
  );
  cfg.tenants.forEach((t, i) => {
    const other =
      t.subdomain !== undefined
        ? cfg.tenants.find(
            (o) => o !== t && (o.name === t.subdomain || o.subdomain === t.subdomain),
          )
        : undefined;
    if (other)
      add(
        ['tenants', i, 'subdomain'],
        `subdomain "${t.subdomain}" is also used by tenant "${other.name}"; paths would collide`,
      );
  });
  duplicates(
    cfg.clusterIssuers.map((c) => c.name),
    (i, v) => add(['clusterIssuers', i, 'name'], `duplicate cluster issuer "${v}"`),
  );
  cfg.clusterIssuers.forEach((c, i) => {
    if (findTenant(cfg, c.name))
      add(['clusterIssuers', i, 'name'], `"${c.name}" is also a tenant name; paths would collide`);
  });
  const allApps = cfg.tenants.flatMap((t) => t.apps);
  const appPaths = cfg.tenants.flatMap((t, ti) =>
    t.apps.map((_, ai) => ['tenants', ti, 'apps', ai] as (string | number)[]),
  );
  duplicates(
    allApps.map((a) => a.clientId.toLowerCase()),
    (i, v) => add([...(appPaths[i] ?? ['tenants']), 'clientId'], `client id ${v} is used twice`),
  );
  duplicates(
    cfg.tenants
      .flatMap((t) => [
        ...t.apps.map((a) => a.servicePrincipalId),
        ...t.servicePrincipals.map((s) => s.objectId),
      ])
      .map((x) => x.toLowerCase()),
    (_i, v) => add(['tenants'], `object id ${v} is used by two service principals`),
  );

  cfg.tenants.forEach((tenant, ti) => {
    const at = (...rest: (string | number)[]) => ['tenants', ti, ...rest];
    duplicates(
      tenant.apps.map((a) => a.name),
      (i, v) => add(at('apps', i, 'name'), `duplicate app name "${v}"`),
    );
    duplicates(
      tenant.userFlows.map((f) => f.name.toLowerCase()),
      (i, v) => add(at('userFlows', i, 'name'), `duplicate user flow ${v}`),
    );
    duplicates(
      tenant.users.map((u) => u.email.toLowerCase()),
      (i, v) => add(at('users', i, 'email'), `duplicate user ${v}`),
    );
    duplicates(
      tenant.users.map((u) => u.objectId.toLowerCase()),
      (i, v) => add(at('users', i, 'objectId'), `duplicate user object id ${v}`),
    );
    if (tenant.type !== 'b2c' && tenant.userFlows.length > 0)
      add(at('userFlows'), 'user flows exist only in b2c tenants');
    if (tenant.type === 'workforce' && tenant.users.length > 0)
      add(at('users'), 'seed users exist only in b2c and external tenants');
    if (tenant.type !== 'external') checkNotExternal(tenant, at, add);
    else checkExternal(tenant, at, add);
    tenant.users.forEach((u, ui) => {
      const problem = passwordPolicyProblem(u.password);
      if (problem) add(at('users', ui, 'password'), problem);
    });

    tenant.apps.forEach((app, ai) => {
      const ap = (...rest: (string | number)[]) => at('apps', ai, ...rest);
      if (app.publicClient && (app.secrets.length > 0 || app.certificates.length > 0))
        add(ap(), 'a public client has no secrets or certificates');
      app.redirectUris.forEach((uri, ui) => {
        const u = new URL(uri);
        if (u.protocol !== 'https:' && u.hostname !== 'localhost' && !app.publicClient) {
          add(
            ap('redirectUris', ui),
            'web redirect URIs must use https (http is allowed only for localhost)',
          );
        }
        if (u.hash) add(ap('redirectUris', ui), 'redirect URIs cannot contain a fragment');
      });
      app.spaRedirectUris.forEach((uri, ui) => {
        const u = new URL(uri);
        if (u.protocol !== 'https:' && u.hostname !== 'localhost')
          add(
            ap('spaRedirectUris', ui),
            'SPA redirect URIs must use https (http is allowed only for localhost)',
          );
        if (u.hash) add(ap('spaRedirectUris', ui), 'redirect URIs cannot contain a fragment');
      });
      duplicates(
        app.identifierUris.map((u) => u.toLowerCase()),
        (i, v) => add(ap('identifierUris', i), `duplicate identifier URI ${v}`),
      );
      for (const uri of app.identifierUris) {
        const other = tenant.apps.find(
          (o) => o !== app && o.identifierUris.some((x) => x.toLowerCase() === uri.toLowerCase()),
        );
        if (other)
          add(ap('identifierUris'), `identifier URI ${uri} is also used by app "${other.name}"`);
      }
      duplicates(
        app.scopes.map((s) => s.value),
        (i, v) => add(ap('scopes', i), `duplicate scope ${v}`),
      );
      duplicates(
        app.appRoles.map((r) => r.value),
        (i, v) => add(ap('appRoles', i), `duplicate app role ${v}`),
      );
      app.federatedCredentials.forEach((f, fi) => {
        if (f.clusterIssuer && !cfg.clusterIssuers.some((c) => c.name === f.clusterIssuer)) {
          add(
            ap('federatedCredentials', fi, 'clusterIssuer'),
            `unknown cluster issuer "${f.clusterIssuer}"`,
          );
        }
      });
      checkRoleGrants(tenant, app.grantedAppRoles, ap('grantedAppRoles'), add);
      app.apiPermissions.forEach((g, gi) => {
        const resource = findResourceApp(tenant, g.resource);
        if (!resource)
          return add(
            ap('apiPermissions', gi, 'resource'),
            `no app "${g.resource}" in tenant ${tenant.name}`,
          );
        for (const s of g.scopes) {
          if (!resource.scopes.some((x) => x.value === s))
            add(ap('apiPermissions', gi, 'scopes'), `app "${resource.name}" exposes no scope ${s}`);
        }
      });
    });

    tenant.servicePrincipals.forEach((sp, si) => {
      const [homeName, appName] = sp.app.split('/');
      const home = cfg.tenants.find((t) => t.name === homeName);
      const app = home?.apps.find((a) => a.name === appName);
      if (!home || !app) return add(at('servicePrincipals', si, 'app'), `no app "${sp.app}"`);
      if (home === tenant)
        return add(
          at('servicePrincipals', si, 'app'),
          'an app already has a service principal in its home tenant',
        );
      if (app.signInAudience !== 'AzureADMultipleOrgs') {
        add(
          at('servicePrincipals', si, 'app'),
          `app "${sp.app}" is single-tenant (set signInAudience to AzureADMultipleOrgs)`,
        );
      }
      checkRoleGrants(
        tenant,
        sp.grantedAppRoles,
        at('servicePrincipals', si, 'grantedAppRoles'),
        add,
      );
    });
  });

  if (cfg.keyVault) {
    const kvTenant = findTenant(cfg, cfg.keyVault.tenant);
    if (!kvTenant) add(['keyVault', 'tenant'], `unknown tenant "${cfg.keyVault.tenant}"`);
    cfg.keyVault.roleAssignments.forEach((r, ri) => {
      if (resolvePrincipalIds(cfg, r.principal, kvTenant).length === 0) {
        add(['keyVault', 'roleAssignments', ri, 'principal'], `unknown principal "${r.principal}"`);
      }
    });
    duplicates(
      cfg.keyVault.seedCertificates.map((c) => c.name.toLowerCase()),
      (i, v) => add(['keyVault', 'seedCertificates', i, 'name'], `duplicate certificate ${v}`),
    );
  }
  return issues;
}

/**
 * Ids a vault role assignment names: the app's client id (appid) and the
 * object id of its service principal in the vault's tenant.
 */
export function resolvePrincipalIds(
  cfg: DevAzureConfig,
  principal: string,
  vaultTenant: TenantConfig | undefined,
): string[] {
  if (/^[0-9a-f-]{36}$/i.test(principal)) return [principal.toLowerCase()];
  const [first, second] = principal.split('/');
  const home = second !== undefined ? cfg.tenants.find((t) => t.name === first) : vaultTenant;
  const app = home?.apps.find((a) => a.name === (second ?? first));
  if (!home || !app) return [];
  const ids = [app.clientId.toLowerCase()];
  if (vaultTenant === home) ids.push(app.servicePrincipalId.toLowerCase());
  const sp = vaultTenant?.servicePrincipals.find((s) => s.app === `${home.name}/${app.name}`);
  if (sp) ids.push(sp.objectId.toLowerCase());
  return ids;
}

/** Fields that only external tenants have. */
function checkNotExternal(
  tenant: TenantConfig,
  at: (...rest: (string | number)[]) => (string | number)[],
  add: (path: (string | number)[], message: string) => void,
): void {
  const only = 'exists only in external tenants';
  if (tenant.subdomain !== undefined) add(at('subdomain'), `subdomain ${only}`);
  if (tenant.authenticationContexts.length > 0)
    add(at('authenticationContexts'), `authenticationContexts ${only}`);
  if (tenant.conditionalAccessPolicies.length > 0)
    add(at('conditionalAccessPolicies'), `conditionalAccessPolicies ${only}`);
  tenant.users.forEach((u, ui) => {
    if (u.legacyB2cObjectId !== undefined)
      add(at('users', ui, 'legacyB2cObjectId'), `legacyB2cObjectId ${only}`);
    if (u.phone !== undefined) add(at('users', ui, 'phone'), `phone ${only}`);
  });
  tenant.apps.forEach((a, ai) => {
    if (a.optionalClaims.idToken.length + a.optionalClaims.accessToken.length > 0)
      add(at('apps', ai, 'optionalClaims'), `optionalClaims ${only}`);
  });
}

function checkExternal(
  tenant: TenantConfig,
  at: (...rest: (string | number)[]) => (string | number)[],
  add: (path: (string | number)[], message: string) => void,
): void {
  duplicates(
    tenant.authenticationContexts.map((c) => c.id),
    (i, v) => add(at('authenticationContexts', i, 'id'), `duplicate authentication context ${v}`),
  );
  if (tenant.mfaMethods.length === 0)
    add(at('mfaMethods'), 'name at least one second factor (emailOtp, sms)');
  tenant.conditionalAccessPolicies.forEach((p, pi) => {
    if (
      p.authenticationContext !== undefined &&
      !tenant.authenticationContexts.some((c) => c.id === p.authenticationContext)
    ) {
      add(
        at('conditionalAccessPolicies', pi, 'authenticationContext'),
        `no authentication context "${p.authenticationContext}" in tenant ${tenant.name}`,
      );
    }
    for (const name of p.apps ?? []) {
      if (!tenant.apps.some((a) => a.name === name))
        add(
          at('conditionalAccessPolicies', pi, 'apps'),
          `no app "${name}" in tenant ${tenant.name}`,
        );
    }
  });
}

function checkRoleGrants(
  tenant: TenantConfig,
  grants: { resource: string; roles: string[] }[],
  path: (string | number)[],
  add: (path: (string | number)[], message: string) => void,
): void {
  grants.forEach((g, gi) => {
    const resource = findResourceApp(tenant, g.resource);
    if (!resource)
      return add([...path, gi, 'resource'], `no app "${g.resource}" in tenant ${tenant.name}`);
    for (const role of g.roles) {
      const def = resource.appRoles.find((r) => r.value === role);
      if (!def) add([...path, gi, 'roles'], `app "${resource.name}" defines no app role ${role}`);
      else if (!def.allowedMemberTypes.includes('Application'))
        add([...path, gi, 'roles'], `app role ${role} cannot be granted to applications`);
    }
  });
}

function duplicates(values: string[], report: (index: number, value: string) => void): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) report(i, v);
    seen.add(v);
  });
}
