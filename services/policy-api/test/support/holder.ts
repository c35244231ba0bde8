import { randomUUID } from 'node:crypto';
import type { ErrorBody, PolicyBody } from './fixtures';
import type { CallResult, Harness } from './harness';
import { MFA_FLOW } from './tokens';

/** A signed-up user with a policy: their oid, a step-up (MFA) token and the ETag of the first read. */
export interface Holder {
  oid: string;
  token: string;
  etag: string;
  policy: PolicyBody;
}

export async function newHolder(h: Harness): Promise<Holder> {
  const oid = randomUUID();
  const r = await h.call<PolicyBody>('GET', '/policies/me', {
    token: await h.issuer.userToken({ oid }),
  });
  return {
    oid,
    token: await h.issuer.userToken({ oid, flow: MFA_FLOW }),
    etag: r.headers.get('etag') ?? '',
    policy: r.body,
  };
}

export interface PutOptions {
  ifMatch?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** PUT /policies/me/beneficiaries; a string body is sent as is (raw), anything else as JSON. */
export function putBeneficiaries(
  h: Harness,
  holder: Holder,
  body: unknown,
  o: PutOptions = {},
): Promise<CallResult<PolicyBody & ErrorBody>> {
  const ifMatch = 'ifMatch' in o ? o.ifMatch : holder.etag;
  return h.call<PolicyBody & ErrorBody>('PUT', '/policies/me/beneficiaries', {
    token: holder.token,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: {
      ...(ifMatch !== undefined ? { 'if-match': ifMatch } : {}),
      'content-type': o.contentType ?? 'application/json',
      ...o.headers,
    },
  });
}

/** Everything a change writes for the policy an identity holds: the policy row, its history and its outbox events. */
export async function storedState(
  h: Harness,
  oid: string,
): Promise<{ version: number; beneficiaries: unknown; history: number; outbox: number }> {
  const { rows } = await h.db.query(
    `SELECT p.version, p.beneficiaries,
            (SELECT count(*)::int FROM policy_history WHERE policy_id = p.id) AS history,
            (SELECT count(*)::int FROM outbox WHERE payload->>'policyNumber' = p.number) AS outbox
       FROM policy_identities i JOIN policies p ON p.id = i.policy_id WHERE i.oid = $1`,
    [oid],
  );
  return rows[0];
}
