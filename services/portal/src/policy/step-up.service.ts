// Saving beneficiaries. The everyday token is tried first; when the API answers
// with the RFC 9470 challenge the typed rows wait in the session while the
// user runs the MFA flow (prompt=login), then the write is retried once with
// the MFA flow's token, which is used for that single request and dropped.
// On External ID there is no MFA flow: the user re-authorizes with the API's
// claims challenge (Conditional Access authentication context, e.g. c1) as the
// `claims` parameter; everything else — kept rows, one retry, throwaway token — is the same.
import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthService, type StartOptions } from '../auth/auth.service';
import { CustomerAuthority } from '../auth/customer-authority';
import type { BeneficiaryInput, PendingWrite } from '../session/session-data';
import { validateRows } from './beneficiary-form';
import { externalIdStepUp } from './challenge';
import {
  ApiRejected,
  type Beneficiary,
  PolicyChanged,
  PolicyClient,
  StepUpRequired,
} from './policy-client';

const PENDING_WRITE_TTL_MS = 15 * 60 * 1000;

@Injectable()
export class StepUpService {
  constructor(
    private readonly auth: AuthService,
    private readonly authority: CustomerAuthority,
    private readonly api: PolicyClient,
  ) {}

  /** Tries the write; returns where to send the browser (an authorize URL when step-up is needed). */
  async save(
    req: FastifyRequest,
    rows: BeneficiaryInput[],
    etag: string | undefined,
  ): Promise<string> {
    const { beneficiaries } = validateRows(rows);
    const token = await this.auth.apiToken(req.portalSession, this.auth.scopes.write);
    try {
      await this.api.putBeneficiaries(token, req.id, beneficiaries, etag);
      return this.saved(req);
    } catch (e) {
      if (e instanceof PolicyChanged && (await this.alreadyStored(req, beneficiaries)))
        return this.saved(req);
      if (!(e instanceof StepUpRequired)) return this.failed(req, e, rows, etag);
      const flow =
        this.authority.flowForAcr(e.challenge.acrValues) ?? this.authority.flowName('mfa');
      req.log.info({ oid: req.portalSession.data.user?.oid, flow }, 'step-up required');
      const options: StartOptions =
        this.authority.kind === 'b2c'
          ? { prompt: 'login', maxAge: e.challenge.maxAge }
          : externalIdStepUp(e.challenge);
      // The typed rows wait with this verification's own state (not in one session-wide slot
      // that a second save, from another tab or a double submit, would overwrite).
      const write = { rows, ...(etag ? { etag } : {}), createdAt: Date.now() };
      return this.auth.start(req.portalSession, 'stepup', flow, { ...options, write });
    }
  }

  /** After the MFA flow: the retry of the change this verification was for, with its token. Returns the page to show next. */
  async complete(
    req: FastifyRequest,
    mfaToken: string,
    pending: PendingWrite | undefined,
  ): Promise<string> {
    const data = req.portalSession.data;
    if (!pending || Date.now() - pending.createdAt > PENDING_WRITE_TTL_MS) {
      data.flash = {
        kind: 'error',
        message: 'Your change expired before it was verified. Please enter it again.',
      };
      return '/policy/beneficiaries';
    }
    const { beneficiaries, errors } = validateRows(pending.rows);
    if (errors.length)
      return this.failed(req, new ApiRejected(errors.join(' ')), pending.rows, pending.etag);
    try {
      await this.api.putBeneficiaries(mfaToken, req.id, beneficiaries, pending.etag);
      return this.saved(req);
    } catch (e) {
      if (e instanceof PolicyChanged && (await this.alreadyStored(req, beneficiaries)))
        return this.saved(req);
      if (e instanceof StepUpRequired)
        return this.failed(
          req,
          new ApiRejected('The verification was not accepted. Please try again.'),
          pending.rows,
          pending.etag,
        );
      return this.failed(req, e, pending.rows, pending.etag);
    }
  }

  /**
   * A write that lost the If-Match race to the very same change (the form submitted twice, or the
   * same save in two tabs) did what the user asked: it is reported as saved, not as "changed
   * elsewhere" (which made users save again, or believe nothing was saved). Any other difference,
   * or no answer, stays a conflict.
   */
  private async alreadyStored(req: FastifyRequest, wanted: Beneficiary[]): Promise<boolean> {
    const key = (list: readonly Beneficiary[]) =>
      JSON.stringify(list.map((b) => [b.name.normalize('NFC'), b.relationship, b.sharePercent]));
    try {
      const token = await this.auth.apiToken(req.portalSession, this.auth.scopes.read);
      const { policy } = await this.api.getPolicy(token, req.id);
      return key(policy.beneficiaries) === key(wanted);
    } catch {
      return false;
    }
  }

  private saved(req: FastifyRequest): string {
    req.portalSession.data.pendingWrite = undefined; // rows kept from an earlier attempt are moot
    req.portalSession.data.flash = { kind: 'success', message: 'Your beneficiaries were updated.' };
    req.log.info({ oid: req.portalSession.data.user?.oid }, 'beneficiaries updated');
    return '/policy';
  }

  /**
   * Back to the form with what the user typed and why it did not go through. `etag`: the version
   * it was typed against, kept unless the policy changed (then the user checks against the latest).
   */
  private failed(
    req: FastifyRequest,
    e: unknown,
    rows: BeneficiaryInput[],
    etag: string | undefined,
  ): string {
    if (e instanceof PolicyChanged) {
      req.portalSession.data.pendingWrite = {
        rows,
        createdAt: Date.now(),
        errors: [
          'Your policy was changed elsewhere in the meantime. Check the values and save again.',
        ],
      };
    } else if (e instanceof ApiRejected) {
      req.portalSession.data.pendingWrite = {
        rows,
        ...(etag ? { etag } : {}),
        createdAt: Date.now(),
        errors: [e.detail],
      };
    } else {
      throw e;
    }
    return '/policy/beneficiaries';
  }
}
