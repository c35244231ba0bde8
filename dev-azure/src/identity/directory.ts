// Runtime view of the configuration: tenants by any alias, principals
// (home apps and consented multi-tenant apps), resources and grants.
import { X509Certificate } from 'node:crypto';
import { GRAPH_APP, isGraphReference } from '../config/graph';
import { findResourceApp, KEY_VAULT_RESOURCE } from '../config/references';
import type { AppConfig, DevAzureConfig, TenantConfig, UserFlowConfig } from '../config/schema';
import { sha256 } from '../util/encoding';

export interface ResolvedSecret {
  sha256: Buffer;
  expiresAt?: number;
}

export type CertificateSource =
  { kind: 'pem'; cert: X509Certificate } | { kind: 'keyVault'; name: string };

export interface ResolvedApp {
  config: AppConfig;
  home: TenantConfig;
  secrets: ResolvedSecret[];
  certificates: CertificateSource[];
  /** Confidential = has a credential of some kind. */
  confidential: boolean;
}

/** An app as seen from one tenant: its service principal there. */
export interface Principal {
  app: ResolvedApp;
  tenant: TenantConfig;
  objectId: string;
  grants: { resource: string; roles: string[] }[];
}

export type Resource = { kind: 'app'; app: AppConfig } | { kind: 'vault' };

export class Directory {
  private readonly apps = new Map<string, ResolvedApp>();

  constructor(readonly config: DevAzureConfig) {
    for (const tenant of config.tenants) {
      for (const app of tenant.apps) {
        const secrets = app.secrets.map((s) => ({
          sha256: s.value !== undefined ? sha256(s.value) : Buffer.from(s.sha256 ?? '', 'hex'),
          expiresAt: s.expires ? Date.parse(s.expires) : undefined,
        }));
        const certificates: CertificateSource[] = app.certificates.map((c) =>
          'pem' in c
            ? { kind: 'pem', cert: new X509Certificate(c.pem) }
            : { kind: 'keyVault', name: c.keyVaultCertificate },
        );
        this.apps.set(app.clientId.toLowerCase(), {
          config: app,
          home: tenant,
          secrets,
          certificates,
          confidential: !app.publicClient,
        });
      }
    }
  }

  /** Accepts "contoso", "contoso.onmicrosoft.com" or the tenant id, case-insensitively. */
  tenant(segment: string): TenantConfig | undefined {
    const lower = segment.toLowerCase();
    const name = lower.endsWith('.onmicrosoft.com')
      ? lower.slice(0, -'.onmicrosoft.com'.length)
      : lower;
    return this.config.tenants.find(
      (t) =>
        t.name === name ||
        t.id.toLowerCase() === lower ||
        (t.subdomain !== undefined && t.subdomain === name),
    );
  }

  tenantAliases(tenant: TenantConfig): string[] {
    const names = [
      tenant.name,
      ...(tenant.subdomain && tenant.subdomain !== tenant.name ? [tenant.subdomain] : []),
    ];
    return [tenant.id, ...names.flatMap((n) => [n, `${n}.onmicrosoft.com`])];
  }

  flow(tenant: TenantConfig, name: string): UserFlowConfig | undefined {
    const lower = name.toLowerCase();
    return tenant.userFlows.find((f) => f.name.toLowerCase() === lower);
  }

  app(clientId: string): ResolvedApp | undefined {
    return this.apps.get(clientId.toLowerCase());
  }

  /** The client's service principal in `tenant`, if the app is registered or consented there. */
  principal(tenant: TenantConfig, clientId: string): Principal | undefined {
    const app = this.app(clientId);
    if (!app) return undefined;
    if (app.home === tenant)
      return {
        app,
        tenant,
        objectId: app.config.servicePrincipalId,
        grants: app.config.grantedAppRoles,
      };
    const sp = tenant.servicePrincipals.find(
      (s) => s.app === `${app.home.name}/${app.config.name}`,
    );
    return sp ? { app, tenant, objectId: sp.objectId, grants: sp.grantedAppRoles } : undefined;
  }

  /** Resolves a resource identifier (identifier URI, client id, api://<client id>) in `tenant`. */
  resource(tenant: TenantConfig, identifier: string): Resource | undefined {
    const trimmed = identifier.replace(/\/+$/, '');
    if (trimmed.toLowerCase() === KEY_VAULT_RESOURCE) return { kind: 'vault' };
    if (isGraphReference(tenant, trimmed)) return { kind: 'app', app: GRAPH_APP };
    const apiClientId = /^api:\/\/([0-9a-f-]{36})$/i.exec(trimmed)?.[1];
    const byUri = tenant.apps.find((a) =>
      a.identifierUris.some((u) => u.toLowerCase() === trimmed.toLowerCase()),
    );
    const byId = tenant.apps.find(
      (a) => a.clientId.toLowerCase() === (apiClientId ?? trimmed).toLowerCase(),
    );
    const app = byUri ?? byId;
    return app ? { kind: 'app', app } : undefined;
  }

  /** App roles `principal` holds on `resource` (application permissions). */
  grantedRoles(principal: Principal, resource: AppConfig): string[] {
    const roles = new Set<string>();
    for (const g of principal.grants) {
      if (findResourceApp(principal.tenant, g.resource) === resource)
        g.roles.forEach((r) => roles.add(r));
    }
    return [...roles];
  }

  /** Delegated scopes the client may obtain on `resource` (admin-consented API permissions). */
  delegatedScopes(client: ResolvedApp, tenant: TenantConfig, resource: AppConfig): string[] {
    if (client.home !== tenant) return [];
    const scopes = new Set<string>();
    for (const g of client.config.apiPermissions) {
      if (findResourceApp(tenant, g.resource) === resource) g.scopes.forEach((s) => scopes.add(s));
    }
    return [...scopes];
  }
}
