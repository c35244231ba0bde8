// One-time codes sent to the mailbox (password reset, email verification,
// email/SMS second factor): issue, then check with an expiry and a bounded
// number of attempts.
import { nowSeconds, safeEqual } from '../../util/encoding';
import {
  CODE_LIFETIME_SECONDS,
  MAX_CODE_ATTEMPTS,
  newOneTimeCode,
  type Channel,
  type CodePurpose,
  type Mailbox,
} from './mailbox';
import type { ResetProgress } from './transactions';

export function sendCode(
  mailbox: Mailbox,
  progress: ResetProgress,
  m: {
    tenantId: string;
    channel: Channel;
    to: string;
    purpose: CodePurpose;
    subject: string;
    digits: number;
  },
): void {
  progress.code = newOneTimeCode(m.digits);
  progress.codeExpiresAt = nowSeconds() + CODE_LIFETIME_SECONDS;
  progress.attempts = 0;
  progress.stage = 'code';
  mailbox.send({
    tenantId: m.tenantId,
    channel: m.channel,
    to: m.to,
    purpose: m.purpose,
    subject: m.subject,
    code: progress.code,
  });
}

export type CodeCheck = 'ok' | 'expired' | 'wrong' | 'locked';

/** 'locked' once the attempts are used up; the caller ends the transaction then. */
export function checkCode(progress: ResetProgress, input: string): CodeCheck {
  if ((progress.codeExpiresAt ?? 0) < nowSeconds()) return 'expired';
  if (progress.code && safeEqual(input.trim(), progress.code)) {
    progress.code = undefined;
    return 'ok';
  }
  progress.attempts++;
  return progress.attempts >= MAX_CODE_ATTEMPTS ? 'locked' : 'wrong';
}
