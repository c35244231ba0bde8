// Pages of the external-tenant sign-in experience at /{tenantId}/ciam/{page}:
// sign in (email + password), self-service sign-up with email verification,
// "Forgot password?" inside the same experience (mailed code, new password,
// then signed in; no error back to the app as in B2C) and the second factor
// Conditional Access asks for (email one-time passcode, or SMS for users with
// a phone when the tenant enables it). Codes land in /_dev/mailbox.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { nowSeconds } from '../../util/encoding';
import type { IdentityContext } from '../context';
import { OAuthError } from '../errors';
import { errorPage } from '../signin/html';
import {
  ACCOUNT_LOCKED,
  checkPassword,
  postReset,
  readSignUp,
  showReset,
  signedIn,
  type ResetOptions,
  type StepIo,
} from '../signin/local-account';
import { checkCode, sendCode } from '../signin/one-time-code';
import { signInPage, signUpPage, verificationCodePage, type PageUrls } from '../signin/pages';
import { deliverError } from '../signin/respond';
import { loadTransaction } from '../signin/ui-guard';
import { hashPassword } from '../signin/users';
import { completeExternal, externalNextStep, externalPageUrl, type ExternalPage } from './journey';

const PAGES: readonly ExternalPage[] = ['signin', 'signup', 'reset', 'mfa'];
const CODE_DIGITS = 8;
export const MAILBOX_PATH = '/_dev/mailbox';

interface Ui extends StepIo {
  req: FastifyRequest;
  page: ExternalPage;
}

export function registerExternalUiRoutes(app: FastifyInstance, ctx: IdentityContext): void {
  const handler = (req: FastifyRequest, reply: FastifyReply) => handleUi(ctx, req, reply);
  app.get('/:tenant/ciam/:page', handler);
  app.post('/:tenant/ciam/:page', handler);
}

async function handleUi(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const params = req.params as { tenant: string; page: string };
  const tenant = ctx.directory.tenant(params.tenant);
  const page = PAGES.find((p) => p === params.page);
  if (!tenant || tenant.type !== 'external' || !page)
    return errorPage(reply, 404, '', 'This page does not exist.');
  const loaded = loadTransaction(
    ctx,
    req,
    reply,
    (t) => t.tenantId === tenant.id && t.flowName === '',
  );
  if (!('tx' in loaded)) return loaded;
  const { tx, form } = loaded;

  const urls: PageUrls = {
    action: externalPageUrl(tenant, page, tx),
    signUp: tenant.selfServiceSignUp ? externalPageUrl(tenant, 'signup', tx) : undefined,
    signIn: externalPageUrl(tenant, 'signin', tx),
    forgotPassword: externalPageUrl(tenant, 'reset', tx),
  };
  const ui: Ui = { ctx, req, reply, tx, tenant, form, urls, page };
  // Before a credential, the user may move between sign-in, sign-up and reset; after it, only forward.
  const step = externalNextStep(ctx, tenant, tx);
  const allowed = tx.oid
    ? page === step
    : page !== 'mfa' && (page !== 'signup' || tenant.selfServiceSignUp);
  if (!allowed) return advance(ui);
  try {
    if (req.method === 'POST' && form.get('action') === 'cancel') {
      ctx.transactions.end(tx);
      return deliverError(reply, tx, 'access_denied', 'The user canceled the authentication.');
    }
    switch (page) {
      case 'signin':
        return req.method === 'POST' ? await postSignIn(ui) : signInPage(reply, tx, urls);
      case 'signup':
        return req.method === 'POST' ? await postSignUp(ui) : showSignUp(ui);
      case 'reset':
        return req.method === 'POST'
          ? await postReset(ui, resetOptions(ui))
          : showReset(ui, resetOptions(ui));
      case 'mfa':
        return req.method === 'POST' ? postMfa(ui) : showMfa(ui);
    }
  } catch (err) {
    if (err instanceof OAuthError) return errorPage(reply, 400, err.code, err.detail);
    throw err;
  }
}

function advance(ui: Ui): FastifyReply {
  const step = externalNextStep(ui.ctx, ui.tenant, ui.tx);
  if (step === 'complete') return completeExternal(ui.ctx, ui.req, ui.reply, ui.tx, ui.tenant);
  return ui.reply.redirect(externalPageUrl(ui.tenant, step, ui.tx), 303);
}

function mailboxUrl(to: string): string {
  return `${MAILBOX_PATH}?${new URLSearchParams({ to }).toString()}`;
}

function tooManyCodes(ui: Ui): FastifyReply {
  ui.ctx.transactions.end(ui.tx);
  return deliverError(
    ui.reply,
    ui.tx,
    'access_denied',
    'AADSTS500121: Authentication failed during strong authentication request.',
  );
}

async function postSignIn(ui: Ui): Promise<FastifyReply> {
  const email = (ui.form.get('email') ?? '').trim();
  const password = ui.form.get('password') ?? '';
  const user = await checkPassword(ui.ctx, ui.tenant, email, password);
  if (user === 'locked')
    return signInPage(ui.reply, ui.tx, ui.urls, { email, error: ACCOUNT_LOCKED });
  if (user === 'wrong')
    return signInPage(ui.reply, ui.tx, ui.urls, {
      email,
      error: 'Your email or password is incorrect.',
    });
  signedIn(ui.tx, user.oid);
  return advance(ui);
}

function showSignUp(ui: Ui, error?: string): FastifyReply {
  const s = ui.tx.signUp;
  if (s?.stage === 'code')
    return verificationCodePage(ui.reply, ui.tx, ui.urls, {
      sentTo: s.email ?? '',
      delivery: { mailboxUrl: mailboxUrl(s.email ?? '') },
      error,
    });
  return signUpPage(ui.reply, ui.tx, ui.urls, { error });
}

/** Details first, then the emailed code proves the address; the account exists only after that. */
async function postSignUp(ui: Ui): Promise<FastifyReply> {
  const s = ui.tx.signUp;
  if (s?.stage === 'code') {
    const check = checkCode(s, ui.form.get('verificationCode') ?? '');
    if (check === 'locked') return tooManyCodes(ui);
    if (check === 'expired') {
      ui.tx.signUp = undefined;
      return showSignUp(ui, 'The verification code has expired. Please start again.');
    }
    if (check === 'wrong') return showSignUp(ui, 'That code is incorrect. Please try again.');
    if (ui.ctx.users.byEmail(ui.tenant.id, s.email ?? '')) {
      ui.tx.signUp = undefined;
      return showSignUp(
        ui,
        'A user with the specified ID already exists. Please choose a different one.',
      );
    }
    const user = ui.ctx.users.add(
      ui.tenant.id,
      {
        email: s.email ?? '',
        givenName: s.givenName,
        surname: s.surname,
        displayName: s.displayName,
      },
      s.passwordHash,
    );
    ui.tx.signUp = undefined;
    signedIn(ui.tx, user.oid);
    return advance(ui);
  }
  const { email, password, names, problem } = readSignUp(ui.ctx, ui.tenant, ui.form);
  if (problem)
    return signUpPage(ui.reply, ui.tx, ui.urls, { values: { email, ...names }, error: problem });
  const progress = {
    stage: 'email' as const,
    attempts: 0,
    email,
    ...names,
    passwordHash: await hashPassword(password),
  };
  ui.tx.signUp = progress;
  sendCode(ui.ctx.mailbox, progress, {
    tenantId: ui.tenant.id,
    channel: 'email',
    to: email,
    purpose: 'signUp',
    subject: 'Verify your email address',
    digits: CODE_DIGITS,
  });
  return ui.reply.redirect(ui.urls.action, 303);
}

function resetOptions(ui: Ui): ResetOptions {
  return {
    digits: CODE_DIGITS,
    delivery: (r) => ({ mailboxUrl: mailboxUrl(r.email ?? '') }),
    locked: () => tooManyCodes(ui),
    done: () => advance(ui),
  };
}

/** Email one-time passcode by default; SMS when the tenant enables it, the user has a phone and asks for it (?method=sms). */
function showMfa(ui: Ui, error?: string): FastifyReply {
  const user = ui.ctx.users.byOid(ui.tenant.id, ui.tx.oid ?? '');
  if (!user)
    return errorPage(
      ui.reply,
      400,
      'AADSTS50034',
      'The user account does not exist in the directory.',
    );
  const smsPossible = ui.tenant.mfaMethods.includes('sms') && user.phone !== undefined;
  const emailPossible = ui.tenant.mfaMethods.includes('emailOtp');
  const wanted = (ui.req.query as Record<string, unknown>).method;
  const current = ui.tx.mfaCode?.channel;
  const channel: 'email' | 'sms' =
    wanted === 'sms' && smsPossible
      ? 'sms'
      : wanted === 'email' && emailPossible
        ? 'email'
        : (current ?? (emailPossible ? 'email' : 'sms'));
  if (!emailPossible && !smsPossible)
    return errorPage(
      ui.reply,
      400,
      'AADSTS50079',
      'The user is required to use multi-factor authentication but has no method this tenant allows.',
    );
  const to = channel === 'sms' ? (user.phone ?? '') : user.email;
  let m = ui.tx.mfaCode;
  if (!m || m.channel !== channel || (m.codeExpiresAt ?? 0) < nowSeconds()) {
    m = { stage: 'email', attempts: 0, channel, email: to };
    ui.tx.mfaCode = m;
    sendCode(ui.ctx.mailbox, m, {
      tenantId: ui.tenant.id,
      channel,
      to,
      purpose: 'mfa',
      subject: 'Your verification code',
      digits: CODE_DIGITS,
    });
  }
  const other =
    channel === 'email' && smsPossible
      ? 'sms'
      : channel === 'sms' && emailPossible
        ? 'email'
        : undefined;
  return verificationCodePage(ui.reply, ui.tx, ui.urls, {
    heading: 'Verify your identity',
    sentTo: to,
    delivery: { mailboxUrl: mailboxUrl(to) },
    error,
    otherMethod: other
      ? {
          href: `${ui.urls.action}&method=${other}`,
          label: other === 'sms' ? 'Text me a code instead' : 'Email me a code instead',
        }
      : undefined,
  });
}

function postMfa(ui: Ui): FastifyReply {
  const m = ui.tx.mfaCode;
  if (!m) return showMfa(ui);
  const check = checkCode(m, ui.form.get('verificationCode') ?? '');
  if (check === 'locked') return tooManyCodes(ui);
  if (check === 'expired')
    return showMfa(ui, 'The verification code has expired. We sent a new one.');
  if (check === 'wrong') return showMfa(ui, 'That code is incorrect. Please try again.');
  const now = nowSeconds();
  ui.tx.mfaCode = undefined;
  ui.tx.mfaDone = true;
  ui.tx.mfaVerifiedAt = now;
  // A step-up is an authentication: auth_time moves and the session is renewed with the second factor.
  ui.tx.authTime = now;
  ui.tx.interactive = true;
  return advance(ui);
}
