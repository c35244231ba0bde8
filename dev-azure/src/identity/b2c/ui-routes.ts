// The user-flow pages: sign in, sign up, password reset, TOTP enrolment and
// verification, profile edit. Every page belongs to a transaction; posts must
// carry the transaction's csrf_token and come from the browser that started it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig, UserFlowConfig } from '../../config/schema';
import { nowSeconds } from '../../util/encoding';
import type { IdentityContext } from '../context';
import { OAuthError } from '../errors';
import { FormParams } from '../form-params';
import { completeFlow } from './complete';
import { loadTransaction } from '../signin/ui-guard';
import {
  allowsForgotPassword,
  allowsSignUp,
  nextStep,
  pageAllowed,
  UI_PAGES,
  type UiPage,
} from './flow-engine';
import { errorPage } from '../signin/html';
import {
  ACCOUNT_LOCKED,
  checkPassword,
  postReset,
  type StepIo,
  profileProblem,
  profileValues,
  readSignUp,
  showReset,
  signedIn,
  type ResetOptions,
} from '../signin/local-account';
import {
  mfaEnrolPage,
  mfaVerifyPage,
  profilePage,
  signInPage,
  signUpPage,
  type PageUrls,
  type ProfileValues,
} from '../signin/pages';
import { deliverError } from '../signin/respond';
import { enrolmentQrDataUrl, pendingSecret, verifyTotp } from './totp';
import type { AuthorizeTransaction } from '../signin/transactions';
import { MAX_CODE_ATTEMPTS } from '../signin/mailbox';
import { hashPassword } from '../signin/users';
import { uiUrl } from './urls';

interface Ui extends StepIo {
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

async function handleUi(
  ctx: IdentityContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const params = req.params as { tenant: string; flow: string; page: string };
  const tenant = ctx.directory.tenant(params.tenant);
  const flow = tenant && ctx.directory.flow(tenant, params.flow);
  if (!tenant || !flow) return errorPage(reply, 404, '', 'This page does not exist.');
  const loaded = loadTransaction(
    ctx,
    req,
    reply,
    (t) => t.tenantId === tenant.id && t.flowName === flow.name,
  );
  if (!('tx' in loaded)) return loaded;
  const { tx, form } = loaded;

  if (params.page === 'forgot') {
    if (!allowsForgotPassword(flow) || tx.oid)
      return toCurrentStep(ctx, req, reply, tx, tenant, flow);
    ctx.transactions.end(tx);
    // As B2C: the app is expected to start its password-reset flow.
    return deliverError(
      reply,
      tx,
      'access_denied',
      'AADB2C90118: The user has forgotten their password.',
    );
  }
  if (!(UI_PAGES as readonly string[]).includes(params.page))
    return errorPage(reply, 404, '', 'This page does not exist.');
  const page = params.page as UiPage;
  if (!pageAllowed(page, tx, flow)) return toCurrentStep(ctx, req, reply, tx, tenant, flow);

  const urls: PageUrls = {
    action: uiUrl(tenant, flow, page, tx),
    signUp:
      allowsSignUp(flow) && flow.type === 'signUpOrSignIn'
        ? uiUrl(tenant, flow, 'signup', tx)
        : undefined,
    signIn: flow.type === 'signUpOrSignIn' ? uiUrl(tenant, flow, 'signin', tx) : undefined,
    forgotPassword: allowsForgotPassword(flow) ? uiUrl(tenant, flow, 'forgot', tx) : undefined,
  };
  const ui: Ui = { ctx, req, reply, tx, tenant, flow, form, urls };
  try {
    if (req.method === 'POST' && form.get('action') === 'cancel' && page !== 'signin') {
      ctx.transactions.end(tx);
      return deliverError(
        reply,
        tx,
        'access_denied',
        'AADB2C90091: The user has cancelled entering self-asserted information.',
      );
    }
    switch (page) {
      case 'signin':
        return req.method === 'POST' ? await postSignIn(ui) : signInPage(reply, tx, urls);
      case 'signup':
        return req.method === 'POST' ? await postSignUp(ui) : signUpPage(reply, tx, urls);
      case 'reset':
        return req.method === 'POST'
          ? await postReset(ui, resetOptions(ui))
          : showReset(ui, resetOptions(ui));
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

async function postSignIn(ui: Ui): Promise<FastifyReply> {
  const email = (ui.form.get('email') ?? '').trim();
  const password = ui.form.get('password') ?? '';
  const user = await checkPassword(ui.ctx, ui.tenant, email, password);
  if (user === 'locked')
    return signInPage(ui.reply, ui.tx, ui.urls, { email, error: ACCOUNT_LOCKED });
  if (user === 'wrong')
    return signInPage(ui.reply, ui.tx, ui.urls, { email, error: 'Invalid username or password.' });
  signedIn(ui.tx, user.oid);
  return advance(ui);
}

async function postSignUp(ui: Ui): Promise<FastifyReply> {
  const { email, password, names, problem } = readSignUp(ui.ctx, ui.tenant, ui.form);
  if (problem)
    return signUpPage(ui.reply, ui.tx, ui.urls, { values: { email, ...names }, error: problem });
  const passwordHash = await hashPassword(password);
  // Checked again after the (async) hashing: two sign-ups for one address racing through it
  // would otherwise both pass the check above and create two accounts with the same email.
  if (ui.ctx.users.byEmail(ui.tenant.id, email))
    return signUpPage(ui.reply, ui.tx, ui.urls, {
      values: { email, ...names },
      error: 'A user with the specified ID already exists. Please choose a different one.',
    });
  const user = ui.ctx.users.add(ui.tenant.id, { email, ...names }, passwordHash);
  signedIn(ui.tx, user.oid);
  return advance(ui);
}

/** B2C's reset flow: 6-digit code shown on the page (no mail server), AADB2C90151 after too many wrong codes. */
/** Too many wrong codes: the sign-in ends and the app gets B2C's access_denied. */
function tooManyRetries(ui: Ui, description: string): FastifyReply {
  ui.ctx.transactions.end(ui.tx);
  return deliverError(ui.reply, ui.tx, 'access_denied', description);
}

function resetOptions(ui: Ui): ResetOptions {
  return {
    digits: 6,
    delivery: (r) => ({ devCode: r.code ?? '' }),
    locked: () =>
      tooManyRetries(
        ui,
        'AADB2C90151: User has exceeded the maximum number for retries for a self-asserted step.',
      ),
    done: () => advance(ui),
  };
}

async function showMfa(ui: Ui, error?: string): Promise<FastifyReply> {
  const user = ui.ctx.users.byOid(ui.tenant.id, ui.tx.oid ?? '');
  if (!user)
    return errorPage(
      ui.reply,
      400,
      'AADB2C99002',
      'This user does not exist and profile could not be read.',
    );
  if (user.totp?.confirmed) return mfaVerifyPage(ui.reply, ui.tx, ui.urls, { error });
  const secret = pendingSecret(user);
  ui.ctx.users.changed();
  const qrDataUrl = await enrolmentQrDataUrl(ui.tenant.displayName ?? ui.tenant.name, user, secret);
  return mfaEnrolPage(ui.reply, ui.tx, ui.urls, { qrDataUrl, secret, error });
}

async function postMfa(ui: Ui): Promise<FastifyReply> {
  const user = ui.ctx.users.byOid(ui.tenant.id, ui.tx.oid ?? '');
  if (!user)
    return errorPage(
      ui.reply,
      400,
      'AADB2C99002',
      'This user does not exist and profile could not be read.',
    );
  const code = (ui.form.get('totpCode') ?? '').replace(/\s+/g, '');
  if (!(await verifyTotp(user, code))) {
    ui.ctx.users.changed();
    // A bounded number of guesses per sign-in, as B2C: a 6-digit code is otherwise brute-forced.
    ui.tx.totpFailures = (ui.tx.totpFailures ?? 0) + 1;
    if (ui.tx.totpFailures >= MAX_CODE_ATTEMPTS)
      return tooManyRetries(
        ui,
        'AADB2C90151: User has exceeded the maximum number for retries for multi-factor authentication.',
      );
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
  if (!user)
    return errorPage(
      ui.reply,
      400,
      'AADB2C99002',
      'This user does not exist and profile could not be read.',
    );
  return profilePage(ui.reply, ui.tx, ui.urls, {
    values: values ?? {
      email: user.email,
      givenName: user.givenName,
      surname: user.surname,
      displayName: user.displayName,
    },
    error,
  });
}

function postProfile(ui: Ui): FastifyReply {
  const user = ui.ctx.users.byOid(ui.tenant.id, ui.tx.oid ?? '');
  if (!user)
    return errorPage(
      ui.reply,
      400,
      'AADB2C99002',
      'This user does not exist and profile could not be read.',
    );
  const values = profileValues(ui.form);
  const problem = profileProblem(values);
  if (problem) return showProfile(ui, problem, { email: user.email, ...values });
  ui.ctx.users.updateProfile(user, values);
  ui.tx.profileDone = true;
  return advance(ui);
}
