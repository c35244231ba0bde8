// The user-flow pages: sign in, sign up, password reset, TOTP enrolment and
// verification, profile edit. Every page belongs to a transaction; posts must
// carry the transaction's csrf_token and come from the browser that started it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import { nowSeconds, safeEqual } from '../../util/encoding';
import type { IdentityContext } from '../context';
import { OAuthError } from '../errors';
import { FormParams } from '../form-params';
import { completeFlow } from './complete';
import { BROWSER_COOKIE, readCookie } from '../signin/cookies';
import { allowsForgotPassword, allowsSignUp, nextStep, pageAllowed, UI_PAGES, type UiPage } from './flow-engine';
import { errorPage } from '../signin/html';
import {
  mfaEnrolPage,
  mfaVerifyPage,
  profilePage,
  resetCodePage,
  resetEmailPage,
  resetPasswordPage,
  signInPage,
  signUpPage,
  type PageUrls,
  type ProfileValues,
} from '../signin/pages';
import { passwordPolicyProblem } from '../signin/password-policy';
import { sendCode, checkCode } from '../signin/one-time-code';
import { deliverError } from '../signin/respond';
import { enrolmentQrDataUrl, pendingSecret, verifyTotp } from './totp';
import type { AuthorizeTransaction } from '../signin/transactions';
import { uiUrl } from './urls';

const EMAIL = /^[^\s@<>"]{1,64}@[^\s@<>"]{1,190}\.[^\s@<>"]{2,63}$/;

interface Ui {
  ctx: IdentityContext;
  req: FastifyRequest;
  reply: FastifyReply;
  tx: AuthorizeTransaction;
  tenant: TenantConfig;
  flow: UserFlowConfig;
  form: FormParams;
  urls: PageUrls;
}

export function registerUiRoutes(app: FastifyInstance, ctx: IdentityContext): void {
  const handler = (req: FastifyRequest, reply: FastifyReply) => handleUi(ctx, req, reply);
  app.get('/:tenant/:flow/ui/:page', handler);
  app.post('/:tenant/:flow/ui/:page', handler);
}

async function handleUi(ctx: IdentityContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const params = req.params as { tenant: string; flow: string; page: string };
  const tenant = ctx.directory.tenant(params.tenant);
  const flow = tenant && ctx.directory.flow(tenant, params.flow);
  if (!tenant || !flow) return errorPage(reply, 404, '', 'This page does not exist.');
  const tx = ctx.transactions.get((req.query as Record<string, unknown>).tx);
  if (!tx || tx.tenantId !== tenant.id || tx.flowName !== flow.name) {
    return errorPage(reply, 400, '', 'Your sign-in session has expired or is not valid. Go back to the application and sign in again.');
  }
  const browserCookie = readCookie(req, BROWSER_COOKIE);
  if (!browserCookie || !safeEqual(browserCookie, tx.browser)) {
    return errorPage(reply, 403, '', 'This sign-in page belongs to another browser session. Go back to the application and sign in again.');
  }
  let form: FormParams;
  try {
    form = FormParams.from(req.method === 'POST' ? req.body : {});
    if (req.method === 'POST' && !safeEqual(form.get('csrf_token') ?? '', tx.csrf)) {
      return errorPage(reply, 403, '', 'The form could not be verified. Go back to the application and sign in again.');
    }
  } catch (err) {
    if (err instanceof OAuthError) return errorPage(reply, 400, err.code, err.detail);
    throw err;
  }

  if (params.page === 'forgot') {
    if (!allowsForgotPassword(flow) || tx.oid) return toCurrentStep(ctx, req, reply, tx, tenant, flow);
    ctx.transactions.end(tx);
    // As B2C: the app is expected to start its password-reset flow.
    return deliverError(reply, tx, 'access_denied', 'AADB2C90118: The user has forgotten their password.');
  }
  if (!(UI_PAGES as readonly string[]).includes(params.page)) return errorPage(reply, 404, '', 'This page does not exist.');
  const page = params.page as UiPage;
  if (!pageAllowed(page, tx, flow)) return toCurrentStep(ctx, req, reply, tx, tenant, flow);

  const urls: PageUrls = {
    action: uiUrl(tenant, flow, page, tx),
    signUp: allowsSignUp(flow) && flow.type === 'signUpOrSignIn' ? uiUrl(tenant, flow, 'signup', tx) : undefined,
    signIn: flow.type === 'signUpOrSignIn' ? uiUrl(tenant, flow, 'signin', tx) : undefined,
    forgotPassword: allowsForgotPassword(flow) ? uiUrl(tenant, flow, 'forgot', tx) : undefined,
  };
  const ui: Ui = { ctx, req, reply, tx, tenant, flow, form, urls };
  try {
    if (req.method === 'POST' && form.get('action') === 'cancel' && page !== 'signin') {
      ctx.transactions.end(tx);
      return deliverError(reply, tx, 'access_denied', 'AADB2C90091: The user has cancelled entering self-asserted information.');
    }
    switch (page) {
      case 'signin':
        return req.method === 'POST' ? await postSignIn(ui) : signInPage(reply, tx, urls);
      case 'signup':
        return req.method === 'POST' ? await postSignUp(ui) : signUpPage(reply, tx, urls);
      case 'reset':
        return req.method === 'POST' ? await postReset(ui) : showReset(ui);
      case 'mfa':
        return req.method === 'POST' ? await postMfa(ui) : await showMfa(ui);
      case 'profile':
        return req.method === 'POST' ? postProfile(ui) : showProfile(ui);
    }
  } catch (err) {
    if (err instanceof OAuthError) return errorPage(reply, 400, err.code, err.detail);
    throw err;
  }
}

function toCurrentStep(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
  tx: AuthorizeTransaction,
  tenant: TenantConfig,
  flow: UserFlowConfig,
): FastifyReply {
  const step = nextStep(tx, flow);
  if (step === 'complete') return completeFlow(ctx, req, reply, tx, tenant, flow);
  return reply.redirect(uiUrl(tenant, flow, step, tx), 303);
}

function advance(ui: Ui): FastifyReply {
  return toCurrentStep(ui.ctx, ui.req, ui.reply, ui.tx, ui.tenant, ui.flow);
}

function signedIn(ui: Ui, oid: string): void {
  ui.tx.oid = oid;
  ui.tx.authTime = nowSeconds();
  ui.tx.interactive = true;
  ui.tx.mfaDone = false;
}

async function postSignIn(ui: Ui): Promise<FastifyReply> {
  const email = (ui.form.get('email') ?? '').trim();
  const password = ui.form.get('password') ?? '';
  const user = email && password ? await ui.ctx.users.authenticate(ui.tenant.id, email, password) : undefined;
  if (!user) return signInPage(ui.reply, ui.tx, ui.urls, { email, error: 'Invalid username or password.' });
  signedIn(ui, user.oid);
  return advance(ui);
}

function profileValues(form: FormParams): Required<Omit<ProfileValues, 'email'>> {
  return {
    givenName: (form.get('givenName') ?? '').trim(),
    surname: (form.get('surname') ?? '').trim(),
    displayName: (form.get('displayName') ?? '').trim(),
  };
}

function profileProblem(v: Required<Omit<ProfileValues, 'email'>>): string | undefined {
  if (!v.givenName || !v.surname || !v.displayName) return 'Given name, surname and display name are required.';
  if ([v.givenName, v.surname, v.displayName].some((x) => x.length > 64)) return 'Names can have at most 64 characters.';
  return undefined;
}

async function postSignUp(ui: Ui): Promise<FastifyReply> {
  const email = (ui.form.get('email') ?? '').trim();
  const password = ui.form.get('newPassword') ?? '';
  const confirm = ui.form.get('reenterPassword') ?? '';
  const names = profileValues(ui.form);
  const values = { email, ...names };
  const problem = !EMAIL.test(email)
    ? 'Please enter a valid email address.'
    : (passwordPolicyProblem(password) ??
      (password !== confirm ? 'The password entry fields do not match. Please enter the same password in both fields and try again.' : undefined) ??
      profileProblem(names) ??
      (ui.ctx.users.byEmail(ui.tenant.id, email) ? 'A user with the specified ID already exists. Please choose a different one.' : undefined));
  if (problem) return signUpPage(ui.reply, ui.tx, ui.urls, { values, error: problem });
  const user = await ui.ctx.users.create(ui.tenant.id, { email, password, ...names });
  signedIn(ui, user.oid);
  return advance(ui);
}

function showReset(ui: Ui, error?: string): FastifyReply {
  const r = ui.tx.reset;
  if (!r || r.stage === 'email') return resetEmailPage(ui.reply, ui.tx, ui.urls, { email: r?.email, error });
  if (r.stage === 'code') return resetCodePage(ui.reply, ui.tx, ui.urls, { email: r.email ?? '', devCode: r.code ?? '', error });
  return resetPasswordPage(ui.reply, ui.tx, ui.urls, { error });
}

async function postReset(ui: Ui): Promise<FastifyReply> {
  const r = (ui.tx.reset ??= { stage: 'email', attempts: 0 });
  if (r.stage === 'email') {
    const email = (ui.form.get('email') ?? '').trim();
    const user = EMAIL.test(email) ? ui.ctx.users.byEmail(ui.tenant.id, email) : undefined;
    r.email = email;
    if (!user) return showReset(ui, 'An account could not be found for the provided user ID.');
    r.oid = user.oid;
    sendCode(ui.ctx.mailbox, r, { tenantId: ui.tenant.id, channel: 'email', to: user.email, purpose: 'passwordReset', subject: 'Password reset code', digits: 6 });
    return ui.reply.redirect(ui.urls.action, 303);
  }
  if (r.stage === 'code') {
    const check = checkCode(r, ui.form.get('verificationCode') ?? '');
    if (check === 'expired') {
      ui.tx.reset = { stage: 'email', attempts: 0, email: r.email };
      return showReset(ui, 'The verification code has expired. Please request a new one.');
    }
    if (check === 'locked') {
      ui.ctx.transactions.end(ui.tx);
      return deliverError(ui.reply, ui.tx, 'access_denied', 'AADB2C90151: User has exceeded the maximum number for retries for a self-asserted step.');
    }
    if (check === 'wrong') return showReset(ui, 'That code is incorrect. Please try again.');
    r.stage = 'password';
    return ui.reply.redirect(ui.urls.action, 303);
  }
  const password = ui.form.get('newPassword') ?? '';
  const confirm = ui.form.get('reenterPassword') ?? '';
  const problem =
    passwordPolicyProblem(password) ??
    (password !== confirm ? 'The password entry fields do not match. Please enter the same password in both fields and try again.' : undefined);
  if (problem) return showReset(ui, problem);
  const user = r.oid ? ui.ctx.users.byOid(ui.tenant.id, r.oid) : undefined;
  if (!user) return showReset(ui, 'An account could not be found for the provided user ID.');
  await ui.ctx.users.setPassword(user, password);
  signedIn(ui, user.oid);
  return advance(ui);
}

async function showMfa(ui: Ui, error?: string): Promise<FastifyReply> {
  const user = ui.ctx.users.byOid(ui.tenant.id, ui.tx.oid ?? '');
  if (!user) return errorPage(ui.reply, 400, 'AADB2C99002', 'This user does not exist and profile could not be read.');
  if (user.totp?.confirmed) return mfaVerifyPage(ui.reply, ui.tx, ui.urls, { error });
  const secret = pendingSecret(user);
  ui.ctx.users.changed();
  const qrDataUrl = await enrolmentQrDataUrl(ui.tenant.displayName ?? ui.tenant.name, user, secret);
  return mfaEnrolPage(ui.reply, ui.tx, ui.urls, { qrDataUrl, secret, error });
}

async function postMfa(ui: Ui): Promise<FastifyReply> {
  const user = ui.ctx.users.byOid(ui.tenant.id, ui.tx.oid ?? '');
  if (!user) return errorPage(ui.reply, 400, 'AADB2C99002', 'This user does not exist and profile could not be read.');
  const code = (ui.form.get('totpCode') ?? '').replace(/\s+/g, '');
  if (!(await verifyTotp(user, code))) {
    ui.ctx.users.changed();
    return showMfa(ui, 'Wrong code entered, please try again.');
  }
  if (user.totp) user.totp.confirmed = true;
  ui.ctx.users.changed();
  ui.tx.mfaDone = true;
  ui.tx.mfaVerifiedAt = nowSeconds();
  return advance(ui);
}

function showProfile(ui: Ui, error?: string, values?: ProfileValues): FastifyReply {
  const user = ui.ctx.users.byOid(ui.tenant.id, ui.tx.oid ?? '');
  if (!user) return errorPage(ui.reply, 400, 'AADB2C99002', 'This user does not exist and profile could not be read.');
  return profilePage(ui.reply, ui.tx, ui.urls, {
    values: values ?? { email: user.email, givenName: user.givenName, surname: user.surname, displayName: user.displayName },
    error,
  });
}

function postProfile(ui: Ui): FastifyReply {
  const user = ui.ctx.users.byOid(ui.tenant.id, ui.tx.oid ?? '');
  if (!user) return errorPage(ui.reply, 400, 'AADB2C99002', 'This user does not exist and profile could not be read.');
  const values = profileValues(ui.form);
  const problem = profileProblem(values);
  if (problem) return showProfile(ui, problem, { email: user.email, ...values });
  ui.ctx.users.updateProfile(user, values);
  ui.tx.profileDone = true;
  return advance(ui);
}
