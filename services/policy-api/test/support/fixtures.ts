export interface BeneficiaryBody {
  name: string;
  relationship: string;
  sharePercent: number;
}

export interface PolicyBody {
  policyNumber: string;
  holderOid: string;
  version: number;
  beneficiaries: BeneficiaryBody[];
  createdAt: string;
  updatedAt: string;
}

export interface ErrorBody {
  error: string;
  message?: string;
  error_description?: string;
  details?: { field: string; message: string }[];
}

export interface HistoryBody {
  policyNumber?: string;
  items: {
    version: number;
    changedAt: string;
    changedBy: string;
    changedByProvider: string;
    clientId?: string;
    userFlow: string;
    authTime: string;
    requestId: string;
    before: BeneficiaryBody[];
    after: BeneficiaryBody[];
  }[];
  nextBeforeVersion?: number;
}

export const split = (names: string[]): BeneficiaryBody[] => {
  const each = Math.floor(100 / names.length);
  return names.map((name, i) => ({
    name,
    relationship: i === 0 ? 'spouse' : 'child',
    sharePercent: i === 0 ? 100 - each * (names.length - 1) : each,
  }));
};

/** WWW-Authenticate parameters as a map (quoted or token values). */
export function challengeParams(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (header ?? '').matchAll(/([a-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g))
    out[m[1] as string] = m[2] ?? m[3] ?? '';
  return out;
}
