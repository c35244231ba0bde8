import { Inject, Injectable } from '@nestjs/common';
import { TOKEN_BROKER_CONFIG, type TokenBrokerConfig } from '../config';
import type { Registration } from './broker-config';

/** Which NATS user may ask for which scope of which registration. */
@Injectable()
export class CallerPolicy {
  private readonly grants = new Map<string, Set<string>>();
  private readonly registrations = new Map<string, Registration>();

  constructor(
    @Inject(TOKEN_BROKER_CONFIG) { brokerDoc: doc }: Pick<TokenBrokerConfig, 'brokerDoc'>,
  ) {
    for (const r of doc.registrations) this.registrations.set(r.name, r);
    for (const [caller, list] of Object.entries(doc.callers)) {
      const set = new Set<string>();
      for (const g of list) for (const s of g.scopes) set.add(grantKey(g.registration, s));
      this.grants.set(caller, set);
    }
  }

  registration(name: string): Registration | undefined {
    return this.registrations.get(name);
  }

  allRegistrations(): Registration[] {
    return [...this.registrations.values()];
  }

  allows(caller: string, registration: string, scope: string): boolean {
    return this.grants.get(caller)?.has(grantKey(registration, scope)) ?? false;
  }
}

// Scopes compare case-insensitively, as Entra resolves them.
const grantKey = (registration: string, scope: string) => `${registration}\n${scope.toLowerCase()}`;
