import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthService, SignInRequired } from '../auth/auth.service';
import { CustomerAuthority } from '../auth/customer-authority';
import { display, label } from '../pages/display';
import { isHead, renderPage, sendHead } from '../web/views';
import {
  type BeneficiaryFormInput,
  readBeneficiaryForm,
  RELATIONSHIPS,
  rowsFromPolicy,
  validateRows,
} from './beneficiary-form';
import { ApiUnauthorized, PolicyClient } from './policy-client';
import { StepUpService } from './step-up.service';

const HIDDEN_FIELDS = new Set(['beneficiaries']);
const NOT_SAVED_YET = 'You signed in again. Your change is not saved yet: check it and save again.';
const NOT_KEPT = 'You signed in again. Your change was not saved: please enter it again.';

const STALE_FORM =
  'This form did not say which version of your policy it changes. Check the values and save again.';

@Controller('policy')
export class PolicyController {
  constructor(
    private readonly auth: AuthService,
    private readonly api: PolicyClient,
    private readonly stepUp: StepUpService,
    private readonly authority: CustomerAuthority,
  ) {}

  private async readToken(req: FastifyRequest): Promise<string> {
    if (!req.portalSession.existing?.user) throw new SignInRequired();
    return this.auth.apiToken(req.portalSession, this.auth.scopes.read);
  }

  /** HEAD: signed in or not, without calling the API (see sendHead). */
  private async head(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    if (!isHead(req)) return false;
    if (!req.portalSession.existing?.user) throw new SignInRequired();
    await sendHead(reply);
    return true;
  }

  @Get()
  async policy(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (await this.head(req, reply)) return;
    const view = await this.api.getPolicy(await this.readToken(req), req.id);
    const fields = Object.entries(view.policy)
      .filter(([k]) => !HIDDEN_FIELDS.has(k))
      .map(([k, v]) => [k, label(k), display(v)]);
    await renderPage(req, reply, 'policy', 'My Policy', {
      created: view.created,
      fields,
      beneficiaries: view.policy.beneficiaries,
    });
  }

  @Get('history')
  async history(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (await this.head(req, reply)) return;
    const entries = await this.api.getHistory(await this.readToken(req), req.id);
    await renderPage(req, reply, 'history', 'History', {
      entries: entries.map((e) => Object.entries(e).map(([k, v]) => [label(k), display(v)])),
    });
  }

  @Get('beneficiaries')
  async form(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (await this.head(req, reply)) return;
    const view = await this.api.getPolicy(await this.readToken(req), req.id);
    const data = req.portalSession.data;
    // Values kept from a save that was cancelled at step-up or failed after it, else the newest
    // a sign-in brought back (the others wait for the next views): each shown once.
    let kept = data.pendingWrite;
    if (kept) data.pendingWrite = undefined;
    else if (data.restoredWrites?.length) {
      const [newest, ...older] = data.restoredWrites;
      kept = newest;
      data.restoredWrites = older.length ? older : undefined;
      // The sign-in's own message went with the first view: each later one says it again.
      data.flash ??= { kind: 'info', message: NOT_SAVED_YET };
    }
    const errors = kept?.errors ?? [];
    await renderPage(req, reply, 'beneficiaries', 'Change Beneficiaries', {
      rows: kept?.rows ?? rowsFromPolicy(view.policy.beneficiaries),
      // Rows kept with the version they were typed against: a change made meanwhile is a 412
      // ("changed elsewhere") when they are saved, not silently overwritten.
      etag: kept?.etag ?? view.etag,
      errors,
      fieldErrors: {},
      relationships: RELATIONSHIPS,
      secondFactor: this.authority.secondFactor,
    });
  }

  @Post('beneficiaries')
  async save(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Body() body: unknown,
  ): Promise<void> {
    if (!req.portalSession.existing?.user) throw new SignInRequired();
    const form = readBeneficiaryForm(body);
    const { rows } = form;
    try {
      await this.saveRows(req, reply, form);
    } catch (e) {
      if (!(e instanceof SignInRequired || e instanceof ApiUnauthorized)) throw e;
      // The tokens were refused: sign in again, then the form with what was typed (not saved:
      // the user saves it, validated and verified like any other change).
      // Only a form that passes the checks is kept (five rows of bounded values, with its
      // version): a body no rendered form sends (no version, a field twice, a name of a megabyte)
      // reaches here when the token for the current version is refused, and is not stored.
      const checked =
        form.etag !== undefined && form.errors.length === 0 && !validateRows(rows).errors.length;
      const resume = checked
        ? {
            beneficiaries: { rows, etag: form.etag, createdAt: Date.now() },
            flash: { kind: 'info', message: NOT_SAVED_YET } as const,
          }
        : { flash: { kind: 'info', message: NOT_KEPT } as const };
      await reply.redirect(
        await this.auth.signInAgain(req.portalSession, '/policy/beneficiaries', resume),
        303,
      );
    }
  }

  private async saveRows(
    req: FastifyRequest,
    reply: FastifyReply,
    form: BeneficiaryFormInput,
  ): Promise<void> {
    const { rows } = form;
    const checked = validateRows(rows);
    const errors = [...form.errors, ...checked.errors];
    let etag = form.etag;
    if (etag === undefined) {
      // Without the version it was rendered for, the change would be sent without If-Match (or
      // with a malformed one): show the current version and let the user check and save again.
      errors.unshift(STALE_FORM);
      etag = (await this.api.getPolicy(await this.readToken(req), req.id)).etag;
    }
    if (errors.length) {
      await renderPage(
        req,
        reply,
        'beneficiaries',
        'Change Beneficiaries',
        {
          rows,
          etag,
          errors,
          fieldErrors: checked.fieldErrors,
          relationships: RELATIONSHIPS,
          secondFactor: this.authority.secondFactor,
        },
        400,
      );
      return;
    }
    await reply.redirect(await this.stepUp.save(req, rows, etag), 303);
  }
}
