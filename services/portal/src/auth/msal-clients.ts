// MSAL confidential clients, one per request and user flow: the token cache is
// per user and lives (encrypted) in that user's session, so any replica can
// serve any user and no tokens are shared between users in memory.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ConfidentialClientApplication,
  LogLevel,
  type Configuration,
  type ICachePlugin,
  type TokenCacheContext,
} from '@azure/msal-node';
import { Inject, Injectable } from '@nestjs/common';
import { credentialSettingsOf, PORTAL_CONFIG, type PortalConfig } from '../config';
import { PORTAL_LOG, type Logger } from '../log';
import type { SessionData } from '../session/session-data';
import { CustomerAuthority } from './customer-authority';
import { MetadataCache } from './metadata-cache';
import { TimedNetworkClient } from './msal-network';

type Credential = Pick<NonNullable<Configuration['auth']>, 'clientSecret' | 'clientCertificate'>;

/** Secret, or certificate (SHA-256 thumbprint + key + x5c chain, sent as a PS256 client assertion). */
export function credentialOf(c: PortalConfig): Credential {
  const s = credentialSettingsOf(c);
  if (s.certificateFile && s.privateKeyFile) {
    const pem = readFileSync(s.certificateFile, 'utf8');
    const cert = new X509Certificate(pem);
    return {
      clientCertificate: {
        thumbprintSha256: cert.fingerprint256.replace(/:/g, ''),
        privateKey: readFileSync(s.privateKeyFile, 'utf8'),
        x5c: pem,
      },
    };
  }
  return { clientSecret: s.secret };
}

/** Reads/writes the serialised cache from/to the session data. */
export function sessionCachePlugin(data: SessionData): ICachePlugin {
  return {
    beforeCacheAccess: async (ctx: TokenCacheContext) => {
      if (data.msalCache) ctx.tokenCache.deserialize(data.msalCache);
    },
    afterCacheAccess: async (ctx: TokenCacheContext) => {
      if (ctx.cacheHasChanged) data.msalCache = ctx.tokenCache.serialize();
    },
  };
}

@Injectable()
export class MsalClients {
  private readonly credential: Credential;
  private readonly network = new TimedNetworkClient();

  constructor(
    @Inject(PORTAL_CONFIG) config: PortalConfig,
    private readonly authority: CustomerAuthority,
    private readonly metadata: MetadataCache,
    @Inject(PORTAL_LOG) private readonly log: Logger,
  ) {
    this.credential = credentialOf(config);
  }

  /** A client for `flow`; with `session`, its cache is that session's, otherwise a throwaway one. */
  async forFlow(flow: string, session?: SessionData): Promise<ConfidentialClientApplication> {
    const { json } = await this.metadata.get(flow);
    return new ConfidentialClientApplication({
      auth: {
        clientId: this.authority.clientId,
        authority: this.authority.url(flow),
        knownAuthorities: this.authority.knownAuthorities,
        authorityMetadata: json,
        ...this.credential,
        // cp1 (External ID): MSAL adds xms_cc to every request's claims, so claims challenges reach us.
        ...(this.authority.clientCapabilities.length > 0
          ? { clientCapabilities: this.authority.clientCapabilities }
          : {}),
      },
      ...(session ? { cache: { cachePlugin: sessionCachePlugin(session) } } : {}),
      system: {
        networkClient: this.network,
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message, containsPii) => {
            if (containsPii) return;
            if (level === LogLevel.Error) this.log.warn({ msal: message }, 'msal');
            else this.log.debug({ msal: message }, 'msal');
          },
        },
      },
    });
  }
}
