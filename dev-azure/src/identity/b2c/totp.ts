// RFC 6238 TOTP second factor (authenticator app), via otplib.
import { generate, generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { UserRecord } from '../../store/state-store';

const PERIOD = 30;

/** Starts (or resumes) enrolment: a pending secret until a code confirms it. */
export function pendingSecret(user: UserRecord): string {
  if (!user.totp || user.totp.confirmed) user.totp = { secret: generateSecret(), confirmed: false };
  return user.totp.secret;
}

export async function enrolmentQrDataUrl(
  issuer: string,
  user: UserRecord,
  secret: string,
): Promise<string> {
  const uri = generateURI({ issuer, label: user.email, secret });
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 1, width: 200 });
}

/** Accepts a code one step either side of now, never a step already used. */
export async function verifyTotp(user: UserRecord, code: string): Promise<boolean> {
  if (!user.totp || !/^\d{6}$/.test(code)) return false;
  const result = await verify({
    secret: user.totp.secret,
    token: code,
    epochTolerance: PERIOD,
    ...(user.totp.lastStep !== undefined ? { afterTimeStep: user.totp.lastStep } : {}),
  });
  if (!result.valid || !('timeStep' in result)) return false;
  user.totp.lastStep = result.timeStep;
  return true;
}

/** The code an authenticator would show now (or `offsetSteps` periods away). */
export async function currentCode(secret: string, offsetSteps = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offsetSteps * PERIOD });
}
