// The development mailbox: one-time codes the stand-in "sends" by email or
// SMS land here (no mail server), shown at /_dev/mailbox and through the test
// API. In memory, newest last, bounded.
import { randomInt } from 'node:crypto';
import { nowSeconds } from '../../util/encoding';

export type Channel = 'email' | 'sms';
export type CodePurpose = 'passwordReset' | 'signUp' | 'mfa';

export interface MailMessage {
  tenantId: string;
  channel: Channel;
  /** Email address or phone number. */
  to: string;
  purpose: CodePurpose;
  subject: string;
  code: string;
  sentAt: number;
}

const KEEP = 500;

export class Mailbox {
  private readonly messages: MailMessage[] = [];

  send(m: Omit<MailMessage, 'sentAt'>): void {
    this.messages.push({ ...m, sentAt: nowSeconds() });
    if (this.messages.length > KEEP) this.messages.splice(0, this.messages.length - KEEP);
  }

  /** Messages for `to` (any case), or all of them; newest first. */
  list(o: { to?: string; tenantId?: string } = {}): MailMessage[] {
    const to = o.to?.trim().toLowerCase();
    return this.messages
      .filter(
        (m) => (!to || m.to.toLowerCase() === to) && (!o.tenantId || m.tenantId === o.tenantId),
      )
      .reverse();
  }

  lastCode(to: string, o: { tenantId?: string; purpose?: CodePurpose } = {}): string | undefined {
    return this.list({ to, tenantId: o.tenantId }).find(
      (m) => !o.purpose || m.purpose === o.purpose,
    )?.code;
  }
}

export const CODE_LIFETIME_SECONDS = 600;
export const MAX_CODE_ATTEMPTS = 5;

export function newOneTimeCode(digits: number): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, '0');
}
