import { randomInt } from 'node:crypto';

/** `PN` + 10 random digits: unguessable enough not to enumerate, short enough to read out. */
export const POLICY_NUMBER = /^PN\d{10}$/;

export function newPolicyNumber(): string {
  return `PN${String(randomInt(0, 1e10)).padStart(10, '0')}`;
}
