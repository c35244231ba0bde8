// Which page a user-flow transaction needs next, given the flow's type and
// what the user has done so far.
import type { UserFlowConfig } from '../../config/schema';
import type { AuthorizeTransaction } from '../signin/transactions';

export type Step = 'signin' | 'signup' | 'reset' | 'mfa' | 'profile' | 'complete';
export const UI_PAGES = ['signin', 'signup', 'reset', 'mfa', 'profile'] as const;
export type UiPage = (typeof UI_PAGES)[number];

export function nextStep(tx: AuthorizeTransaction, flow: UserFlowConfig): Step {
  if (!tx.oid) {
    if (flow.type === 'passwordReset') return 'reset';
    if (flow.type === 'signUp') return 'signup';
    return 'signin';
  }
  if (flow.mfa === 'totp' && !tx.mfaDone) return 'mfa';
  if (flow.type === 'profileEdit' && !tx.profileDone) return 'profile';
  return 'complete';
}

/** The pages a transaction may show now: the next step, plus the sign-in/sign-up switch of combined flows. */
export function pageAllowed(page: UiPage, tx: AuthorizeTransaction, flow: UserFlowConfig): boolean {
  const step = nextStep(tx, flow);
  if (page === step) return true;
  if (flow.type === 'signUpOrSignIn' && !tx.oid) return page === 'signin' || page === 'signup';
  return false;
}

export function allowsSignUp(flow: UserFlowConfig): boolean {
  return flow.type === 'signUpOrSignIn' || flow.type === 'signUp';
}

export function allowsForgotPassword(flow: UserFlowConfig): boolean {
  return flow.type === 'signUpOrSignIn' || flow.type === 'signIn' || flow.type === 'profileEdit';
}
