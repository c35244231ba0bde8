import { Controller, Get, MethodNotAllowedException, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StepUpService } from '../policy/step-up.service';
import { PortalError } from '../errors/portal-error';
import type { PendingWrite } from '../session/session-data';
import { SessionStore } from '../session/session-store';
import { CustomerAuthority } from './customer-authority';
import { AuthService, safeReturnTo, SignInRequired, type CallbackQuery } from './auth.service';

@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly authority: CustomerAuthority,
    private readonly stepUp: StepUpService,
    private readonly sessions: SessionStore,
  ) {}

  @Get('sign-in')
  async signIn(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('returnTo') returnTo: unknown,
  ): Promise<void> {
    const url = await this.auth.start(
      req.portalSession,
      'signin',
      this.authority.flowName('signUpSignIn'),
      { returnTo: safeReturnTo(returnTo) },
    );
    await reply.redirect(url, 302);
  }

  @Get('redirect')
  async redirect(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query() query: CallbackQuery,
  ): Promise<void> {
    // Fastify answers HEAD with the GET handler: here that would use up the state and redeem the
    // code for a response nobody reads (link checkers and prefetchers send HEAD).
    if (req.method === 'HEAD') {
      void reply.header('allow', 'GET');
      throw new MethodNotAllowedException();
    }
    const outcome = await this.auth.complete(req.portalSession, query ?? {});
    const data = req.portalSession.data;
    switch (outcome.kind) {
      case 'signedIn':
        return void (await reply.redirect(outcome.returnTo, 303));
      case 'alreadySignedIn':
        // Too late to be used: said so, or the user would think the sign-in, profile edit or
        // reset they just finished had been taken in.
        if (outcome.late)
          data.flash = {
            kind: 'info',
            message: 'That came back after 15 minutes, so it was not used. Please try again.',
          };
        return void (await reply.redirect('/', 303));
      case 'profileUpdated':
        data.flash = { kind: 'success', message: 'Your profile was updated.' };
        return void (await reply.redirect('/claims', 303));
      case 'passwordReset':
        data.flash =
          this.authority.kind === 'b2c'
            ? b2cResetFlash(!!data.user)
            : {
                kind: 'success',
                message: 'You are signed in. If you chose a new password, use it from now on.',
              };
        return void (await reply.redirect('/', 303));
      case 'redirect':
        return void (await reply.redirect(outcome.url, 302));
      case 'cancelled':
        // A cancelled step-up: the form shows what was typed for it once more, with the version it
        // was typed against (a change made elsewhere meanwhile is then a 412, not overwritten).
        if (outcome.write) data.pendingWrite = keptWrite(outcome.write);
        data.flash = {
          kind: 'info',
          message:
            outcome.purpose === 'stepup'
              ? 'Verification was cancelled; your change was not saved.'
              : 'Cancelled.',
        };
        return void (await reply.redirect(
          outcome.purpose === 'stepup' ? '/policy/beneficiaries' : '/',
          303,
        ));
      case 'signInNotCompleted': {
        const r = outcome.resume;
        // Too late (15 minutes), or a password reset instead: the user did sign in (or reset),
        // so a fresh request carries what was kept (the provider's session usually answers it).
        if (r && outcome.again) {
          const { beneficiaries, profile, flash } = r;
          const resume = {
            ...(beneficiaries ? { beneficiaries } : {}),
            ...(profile ? { profile } : {}),
            ...(flash ? { flash } : {}),
          };
          return void (await reply.redirect(
            await this.auth.signInAgain(req.portalSession, outcome.returnTo, resume),
            303,
          ));
        }
        // Cancelled or refused: the tokens are still refused, so nothing can be saved or shown on
        // its form until a sign-in; the user is told the change was not saved (never silently).
        data.flash =
          r?.beneficiaries || r?.profile
            ? {
                kind: 'info',
                message: 'You did not sign in again, so your change was not saved.',
              }
            : (r?.flash ?? { kind: 'info', message: 'The sign-in was not completed.' });
        return void (await reply.redirect('/', 303));
      }
      case 'stepUpFailed': {
        // An error response (not a cancel) to the verification: the rows typed for it are shown
        // again with the reason, instead of an error page that lost them.
        const message =
          'Verification could not be completed, so your change was not saved. Please try again.';
        if (outcome.write) data.pendingWrite = { ...keptWrite(outcome.write), errors: [message] };
        else data.flash = { kind: 'error', message };
        return void (await reply.redirect('/policy/beneficiaries', 303));
      }
      case 'stepUp':
        return void (await reply.redirect(
          await this.stepUp.complete(req, outcome.accessToken, outcome.write),
          303,
        ));
    }
  }

  @Get('edit-profile')
  async editProfile(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!req.portalSession.existing?.user) throw new SignInRequired();
    // External ID has no profile-edit user flow: the portal's own form, saved through Graph.
    if (this.authority.kind === 'external-id') return void (await reply.redirect('/profile', 302));
    await reply.redirect(
      await this.auth.start(req.portalSession, 'profile', this.authority.flowName('profileEdit')),
      302,
    );
  }

  @Get('reset-password')
  async resetPassword(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // External ID: self-service reset is part of sign-in ("Forgot password?"), so a fresh sign-in
    // (prompt=login, the user's address as login_hint) is where the reset starts.
    const options = this.authority.kind === 'external-id' ? { prompt: 'login' as const } : {};
    await reply.redirect(
      await this.auth.start(
        req.portalSession,
        'reset',
        this.authority.flowName('passwordReset'),
        options,
      ),
      302,
    );
  }

  /** POST (with the CSRF token) so another site cannot sign the user out. */
  @Post('sign-out')
  async signOut(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = req.portalSession.existing;
    const user = session?.user;
    if (req.signOutAtProviderOnly) {
      // A session with no user and a form from before it (csrf.ts): left as it is, sign-in in
      // flight and all. Unless that sign-in finished while this request ran: then the user is
      // signed in now, and the identity provider's logout alone would leave them so.
      const cookie = req.portalSession.stored?.cookie;
      const rotated = cookie
        ? await this.sessions.rotationOf(cookie).catch((e: unknown) => {
            req.sessionStoreFailed = true;
            throw PortalError.sessionStore(e);
          })
        : undefined;
      if (rotated) throw PortalError.signedInMeanwhile();
      req.log.info({ reqId: req.id }, 'sign-out of a session with no user');
      return void (await reply.redirect(await this.auth.logoutUrl(undefined), 303));
    }
    // No session (it timed out, or ended in another tab): nothing to end here, and the cookie is
    // left alone (a response meanwhile may have set a newer one); the identity provider's session,
    // which would sign the next person in silently, is still ended.
    if (session || req.rotatedSessionCookie) req.portalSession.destroy();
    else req.log.info({ reqId: req.id }, 'sign-out without a session');
    if (user) req.log.info({ oid: user.oid }, 'signed out');
    await reply.redirect(await this.auth.logoutUrl(user), 303);
  }
}

/** The rows of a step-up that did not happen, for the form: typed values and their version. */
function keptWrite(write: PendingWrite): PendingWrite {
  return { rows: write.rows, ...(write.etag ? { etag: write.etag } : {}), createdAt: Date.now() };
}

function b2cResetFlash(signedIn: boolean): { kind: 'success'; message: string } {
  return {
    kind: 'success',
    message: signedIn
      ? 'Your password was changed.'
      : 'Your password was changed. Sign in with your new password.',
  };
}
