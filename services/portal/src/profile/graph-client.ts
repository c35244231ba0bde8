// Microsoft Graph /v1.0/me with the user's delegated token (User.ReadWrite):
// External ID has no profile-edit user flow, so the portal edits the profile here.
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { PORTAL_CONFIG, type PortalConfig } from '../config';
import { PortalError } from '../errors/portal-error';
import type { ProfileFields } from './profile-form';

const MeSchema = z.looseObject({
  displayName: z.string().nullish(),
  givenName: z.string().nullish(),
  surname: z.string().nullish(),
});

/** Graph refused the values (400 Request_BadRequest): shown on the form. */
export class GraphRejected extends Error {}

/** Graph refused the token (expired, revoked, no consent): sign in again. */
export class GraphUnauthorized extends Error {}

@Injectable()
export class GraphClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  /** Graph calls share the policy API's timeout (POLICY_API_TIMEOUT_MS). */
  constructor(
    @Inject(PORTAL_CONFIG) c: Pick<PortalConfig, 'GRAPH_BASE_URL' | 'POLICY_API_TIMEOUT_MS'>,
  ) {
    this.baseUrl = c.GRAPH_BASE_URL;
    this.timeoutMs = c.POLICY_API_TIMEOUT_MS;
  }

  async getMe(token: string, requestId: string): Promise<ProfileFields> {
    const r = await this.call(
      'GET',
      '/v1.0/me?$select=displayName,givenName,surname',
      token,
      requestId,
    );
    await this.check(r);
    const me = MeSchema.safeParse(await r.json());
    if (!me.success) throw PortalError.upstream('Microsoft Graph');
    return {
      displayName: me.data.displayName ?? '',
      givenName: me.data.givenName ?? '',
      surname: me.data.surname ?? '',
    };
  }

  async patchMe(token: string, requestId: string, fields: ProfileFields): Promise<void> {
    const r = await this.call('PATCH', '/v1.0/me', token, requestId, fields);
    await this.check(r);
    await r.body?.cancel();
  }

  private async call(
    method: string,
    path: string,
    token: string,
    requestId: string,
    body?: unknown,
  ): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          'client-request-id': requestId,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw PortalError.upstream('Microsoft Graph');
    }
  }

  private async check(r: Response): Promise<void> {
    if (r.ok) return;
    if (r.status === 401) {
      await r.body?.cancel();
      throw new GraphUnauthorized('Graph refused the token');
    }
    if (r.status === 400) {
      await r.body?.cancel(); // Graph's message names properties, not always in words for customers
      throw new GraphRejected('Your profile could not be saved with these values.');
    }
    await r.body?.cancel();
    throw PortalError.upstream('Microsoft Graph');
  }
}
