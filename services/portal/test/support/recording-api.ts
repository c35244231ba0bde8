// A policy API stand-in for the step-up specs: a node:http server on 127.0.0.1 that serves one
// policy (GET /policies/me, PUT /policies/me/beneficiaries with an ETag), records every call and
// lets the spec decide which writes need a step-up (the `gate` answers them with a 401 challenge).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type JwtClaims = Record<string, unknown>;

/** The payload of a bearer JWT, unverified (the stand-in trusts the portal); `{}` without one. */
export const claimsOf = (token: string): JwtClaims =>
  token
    ? (JSON.parse(
        Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}',
      ) as JwtClaims)
    : {};

/** What every recorded call has; `R` adds what a spec records from the token or request. */
/** The B2C user flow that satisfies step-up (policy-api's default STEP_UP_USER_FLOWS). */
export const MFA_FLOW = 'b2c_1_signupsignin_mfa';
/** The user flow a B2C token came from (`tfp`, or `acr` in older tokens), lower-cased. */
export const flowOf = (claims: JwtClaims): string =>
  String(claims.tfp ?? claims.acr ?? '').toLowerCase();

export type ApiCall<R> = { method: string; path: string; body?: unknown } & R;

/** The 401 a gated write gets: one or more `WWW-Authenticate` challenges. */
export interface StepUpChallenge {
  wwwAuthenticate: string | string[];
}

/** The policy's own fields (policyNumber, holder, ...); the stand-in adds the rest. */
export interface PolicyFields {
  policyNumber: string;
  [field: string]: unknown;
}

export interface Policy extends PolicyFields {
  version: number;
  beneficiaries: unknown[];
}

export interface RecordingApiOptions<R> {
  /** The policy at version 1; each accepted write bumps the version. */
  policy: PolicyFields;
  /** What to record of a call beyond method, path and body. */
  record(claims: JwtClaims, token: string, req: IncomingMessage): R;
  /** The challenge for a write that lacks the step-up, or undefined to let it through. */
  gate(claims: JwtClaims, req: IncomingMessage): StepUpChallenge | undefined;
  /** Answer a write whose If-Match is not the current ETag with 412, as policy-api does. */
  checkIfMatch?: boolean;
}

export interface RecordingApi<R> {
  url: string;
  calls: ApiCall<R>[];
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = '';
    req.on('data', (d: Buffer) => (s += d.toString()));
    req.on('end', () => resolve(s));
  });

export async function startRecordingApi<R extends object>(
  options: RecordingApiOptions<R>,
): Promise<RecordingApi<R>> {
  const calls: ApiCall<R>[] = [];
  let policy: Policy = { ...options.policy, version: 1, beneficiaries: [] };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const claims = claimsOf(token);
    const raw = await readBody(req);
    calls.push({
      ...options.record(claims, token, req),
      method: req.method ?? '',
      path: req.url ?? '',
      body: raw ? (JSON.parse(raw) as unknown) : undefined,
    });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/policies/me')
      return json(200, policy, { etag: `"v${policy.version}"` });
    if (req.method === 'PUT' && req.url === '/policies/me/beneficiaries') {
      const challenge = options.gate(claims, req);
      if (challenge) {
        res.writeHead(401, { 'www-authenticate': challenge.wwwAuthenticate });
        return res.end();
      }
      const ifMatch = req.headers['if-match'];
      if (options.checkIfMatch && ifMatch !== `"v${policy.version}"`)
        return json(412, { error: 'precondition_failed' });
      policy = {
        ...policy,
        version: policy.version + 1,
        beneficiaries: (JSON.parse(raw) as { beneficiaries: unknown[] }).beneficiaries,
      };
      return json(200, policy, { etag: `"v${policy.version}"` });
    }
    json(404, { error: 'not_found' });
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
