// Calls to services/policy-api with the user's access token. A 401 carrying the
// RFC 9470 challenge becomes a StepUpRequired the beneficiaries page acts on.
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { PORTAL_CONFIG, type PortalConfig } from '../config';
import { PortalError } from '../errors/portal-error';
import { stepUpChallengeOf, type StepUpChallenge } from './challenge';

export const BeneficiarySchema = z.object({
  name: z.string(),
  relationship: z.string(),
  sharePercent: z.number(),
});
export type Beneficiary = z.infer<typeof BeneficiarySchema>;

export const PolicySchema = z.looseObject({
  policyNumber: z.string(),
  beneficiaries: z.array(BeneficiarySchema).default([]),
});
export type Policy = z.infer<typeof PolicySchema>;

const HistoryEntrySchema = z.looseObject({});
export type HistoryEntry = Record<string, unknown>;

export class StepUpRequired extends Error {
  constructor(readonly challenge: StepUpChallenge) {
    super('step-up authentication required');
  }
}

/** The API turned the token down (expired, revoked): sign in again. */
export class ApiUnauthorized extends Error {}

/** The write lost a race (If-Match did not match): show the latest and let the user retry. */
export class PolicyChanged extends Error {}

export class ApiRejected extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

export interface PolicyView {
  policy: Policy;
  etag?: string;
  /** The API created the policy on this request (first view). */
  created: boolean;
}

@Injectable()
export class PolicyClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(
    @Inject(PORTAL_CONFIG) c: Pick<PortalConfig, 'POLICY_API_URL' | 'POLICY_API_TIMEOUT_MS'>,
  ) {
    this.baseUrl = c.POLICY_API_URL;
    this.timeoutMs = c.POLICY_API_TIMEOUT_MS;
  }

  async getPolicy(token: string, requestId: string): Promise<PolicyView> {
    const r = await this.call('GET', '/policies/me', token, requestId);
    await this.check(r);
    const policy = PolicySchema.safeParse(await r.json());
    if (!policy.success) throw PortalError.upstream('The policy service');
    return {
      policy: policy.data,
      etag: r.headers.get('etag') ?? undefined,
      created: r.status === 201,
    };
  }

  async getHistory(token: string, requestId: string): Promise<HistoryEntry[]> {
    const r = await this.call('GET', '/policies/me/history', token, requestId);
    await this.check(r);
    const body: unknown = await r.json();
    const list = Array.isArray(body)
      ? body
      : typeof body === 'object' && body !== null
        ? Object.values(body).find(Array.isArray)
        : undefined;
    const parsed = z.array(HistoryEntrySchema).safeParse(list ?? []);
    if (!parsed.success) throw PortalError.upstream('The policy service');
    return parsed.data;
  }

  async putBeneficiaries(
    token: string,
    requestId: string,
    beneficiaries: Beneficiary[],
    etag?: string,
  ): Promise<PolicyView> {
    const r = await this.call(
      'PUT',
      '/policies/me/beneficiaries',
      token,
      requestId,
      { beneficiaries },
      etag ? { 'if-match': etag } : {},
    );
    await this.check(r);
    const policy = PolicySchema.safeParse(await r.json());
    if (!policy.success) throw PortalError.upstream('The policy service');
    return { policy: policy.data, etag: r.headers.get('etag') ?? undefined, created: false };
  }

  /** The unauthenticated endpoint (Test API page). */
  async getPublic(requestId: string): Promise<{ status: number; body: unknown }> {
    const r = await this.call('GET', '/public', undefined, requestId);
    const text = await r.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: show as text
    }
    return { status: r.status, body };
  }

  private async call(
    method: string,
    path: string,
    token: string | undefined,
    requestId: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          'x-request-id': requestId,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw PortalError.upstream('The policy service');
    }
  }

  private async check(r: Response): Promise<void> {
    if (r.ok) return;
    if (r.status === 401) {
      const challenge = stepUpChallengeOf(r.headers.get('www-authenticate'));
      await r.body?.cancel();
      if (challenge) throw new StepUpRequired(challenge);
      throw new ApiUnauthorized('policy API refused the token');
    }
    // 428: the write went without If-Match; like a lost race, the user re-reads and saves again.
    if (r.status === 412 || r.status === 409 || r.status === 428) {
      await r.body?.cancel();
      throw new PolicyChanged('policy changed');
    }
    if (r.status === 400 || r.status === 422) {
      const detail = await r.json().then(
        (b: unknown) =>
          typeof b === 'object' && b !== null && 'message' in b
            ? String((b as { message: unknown }).message)
            : 'The change was not accepted.',
        () => 'The change was not accepted.',
      );
      throw new ApiRejected(detail);
    }
    await r.body?.cancel();
    throw PortalError.upstream('The policy service');
  }
}
