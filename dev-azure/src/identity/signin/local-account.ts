// Local-account steps both interactive tenant types run on their pages: the
// sign-up form's checks, the password reset (email, mailed code, new
// password) and what "signed in" means for a transaction.
import type { FastifyReply } from 'fastify';
import type { TenantConfig } from '../../config/schema';
import type { UserRecord } from '../../store/state-store';
import { nowSeconds } from '../../util/encoding';
import { hasControlCharacter } from '../../util/text';
import type { IdentityContext } from '../context';
import type { FormParams } from '../form-params';
import { checkCode, sendCode } from './one-time-code';
import {
  resetEmailPage,
  resetPasswordPage,
  verificationCodePage,
  type CodeDelivery,
  type PageUrls,
  type ProfileValues,
} from './pages';
import { passwordPolicyProblem } from './password-policy';
import type { AuthorizeTransaction, ResetProgress } from './transactions';

// No whitespace, control characters or lone surrogates in a sign-in name.
export const EMAIL =
  /^[^\s@<>"\p{Cc}\p{Cs}]{1,64}@[^\s@<>"\p{Cc}\p{Cs}]{1,190}\.[^\s@<>"\p{Cc}\p{Cs}]{2,63}$/u;
const MISMATCH =
  'The password entry fields do not match. Please enter the same password in both fields and try again.';

export type Names = Required<Omit<ProfileValues, 'email'>>;

export function profileValues(form: FormParams): Names {
  return {
    givenName: (form.get('givenName') ?? '').trim(),
    surname: (form.get('surname') ?? '').trim(),
    displayName: (form.get('displayName') ?? '').trim(),
  };
}

export function profileProblem(v: Names): string | undefined {
  if (!v.givenName || !v.surname || !v.displayName)
    return 'Given name, surname and display name are required.';
  if ([v.givenName, v.surname, v.displayName].some((x) => x.length > 64))
    return 'Names can have at most 64 characters.';
  if ([v.givenName, v.surname, v.displayName].some(hasControlCharacter))
    return 'Names cannot contain control characters.';
  return undefined;
}

/** Reads the sign-up form; `problem` is what to show when it cannot be accepted. */
export function readSignUp(
  ctx: IdentityContext,
  tenant: TenantConfig,
  form: FormParams,
): { email: string; password: string; names: Names; problem?: string } {
  const email = (form.get('email') ?? '').trim();
  const password = form.get('newPassword') ?? '';
  const confirm = form.get('reenterPassword') ?? '';
  const names = profileValues(form);
  const problem = !EMAIL.test(email)
    ? 'Please enter a valid email address.'
    : (passwordPolicyProblem(password) ??
      (password !== confirm ? MISMATCH : undefined) ??
      profileProblem(names) ??
      (ctx.users.byEmail(tenant.id, email)
        ? 'A user with the specified ID already exists. Please choose a different one.'
        : undefined));
  return { email, password, names, problem };
}

/** What the sign-in page shows for a locked account (Entra's page text and error code). */
export const ACCOUNT_LOCKED =
  "Your account is temporarily locked to prevent unauthorized use. Try again later. AADSTS50053: The account is locked, you've tried to sign in too many times with an incorrect user ID or password.";

/**
 * Email + password through smart lockout: the user, 'wrong' (either is wrong, no hint which),
 * or 'locked' (too many wrong passwords for this sign-in name; not even a right one passes).
 */
export async function checkPassword(
  ctx: IdentityContext,
  tenant: TenantConfig,
  email: string,
  password: string,
): Promise<UserRecord | 'wrong' | 'locked'> {
  // Only sign-in names that can exist are counted (bounded keys for the lockout table).
  if (!EMAIL.test(email) || !password) return 'wrong';
  if (ctx.lockout.lockedFor(tenant.id, email) > 0) return 'locked';
  const user = await ctx.users.authenticate(tenant.id, email, password);
  if (user) {
    ctx.lockout.clear(tenant.id, email);
    return user;
  }
  ctx.lockout.failed(tenant.id, email, password, tenant.smartLockout);
  return ctx.lockout.lockedFor(tenant.id, email) > 0 ? 'locked' : 'wrong';
}

/** A credential was entered: a new sign-in for `oid` (second factor still to do). */
export function signedIn(tx: AuthorizeTransaction, oid: string): void {
  tx.oid = oid;
  tx.authTime = nowSeconds();
  tx.interactive = true;
  tx.mfaDone = false;
}

export interface StepIo {
  ctx: IdentityContext;
  tenant: TenantConfig;
  tx: AuthorizeTransaction;
  form: FormParams;
  reply: FastifyReply;
  urls: PageUrls;
}

export interface ResetOptions {
  digits: number;
  delivery(progress: ResetProgress): CodeDelivery;
  /** Too many wrong codes: the caller ends the transaction and tells the app. */
  locked(): FastifyReply;
  /** The new password is set: continue signed in as `user`. */
  done(user: UserRecord): FastifyReply | Promise<FastifyReply>;
}

export function showReset(io: StepIo, o: ResetOptions, error?: string): FastifyReply {
  const r = io.tx.reset;
  if (!r || r.stage === 'email')
    return resetEmailPage(io.reply, io.tx, io.urls, { email: r?.email, error });
  if (r.stage === 'code')
    return verificationCodePage(io.reply, io.tx, io.urls, {
      sentTo: r.email ?? '',
      delivery: o.delivery(r),
      error,
    });
  return resetPasswordPage(io.reply, io.tx, io.urls, { error });
}

export async function postReset(io: StepIo, o: ResetOptions): Promise<FastifyReply> {
  const r = (io.tx.reset ??= { stage: 'email', attempts: 0 });
  if (r.stage === 'email') {
    const email = (io.form.get('email') ?? '').trim();
    const user = EMAIL.test(email) ? io.ctx.users.byEmail(io.tenant.id, email) : undefined;
    r.email = email;
    if (!user) return showReset(io, o, 'An account could not be found for the provided user ID.');
    r.oid = user.oid;
    sendCode(io.ctx.mailbox, r, {
      tenantId: io.tenant.id,
      channel: 'email',
      to: user.email,
      purpose: 'passwordReset',
      subject: 'Password reset code',
      digits: o.digits,
    });
    return io.reply.redirect(io.urls.action, 303);
  }
  if (r.stage === 'code') {
    const check = checkCode(r, io.form.get('verificationCode') ?? '');
    if (check === 'expired') {
      io.tx.reset = { stage: 'email', attempts: 0, email: r.email };
      return showReset(io, o, 'The verification code has expired. Please request a new one.');
    }
    if (check === 'locked') return o.locked();
    if (check === 'wrong') return showReset(io, o, 'That code is incorrect. Please try again.');
    r.stage = 'password';
    return io.reply.redirect(io.urls.action, 303);
  }
  const password = io.form.get('newPassword') ?? '';
  const problem =
    passwordPolicyProblem(password) ??
    (password !== (io.form.get('reenterPassword') ?? '') ? MISMATCH : undefined);
  if (problem) return showReset(io, o, problem);
  const user = r.oid ? io.ctx.users.byOid(io.tenant.id, r.oid) : undefined;
  if (!user) return showReset(io, o, 'An account could not be found for the provided user ID.');
  await io.ctx.users.setPassword(user, password);
  // A reset proves the account's owner: smart lockout starts over, as after Entra's SSPR.
  io.ctx.lockout.clear(io.tenant.id, user.email);
  signedIn(io.tx, user.oid);
  return o.done(user);
}
