// Key Vault's error envelope: {"error":{"code","message","innererror"?}}.
// The SDKs surface `code` and `message` from it, so the shapes follow Azure's.

export type KvErrorCode =
  | 'BadParameter'
  | 'Unauthorized'
  | 'Forbidden'
  | 'KeyNotFound'
  | 'CertificateNotFound'
  | 'PendingCertificateNotFound'
  | 'NotFound'
  | 'Throttled'
  | 'InternalServerError';

export interface KvErrorBody {
  error: { code: string; message: string; innererror?: { code: string } };
}

export class KvError extends Error {
  constructor(
    readonly status: number,
    readonly code: KvErrorCode,
    message: string,
    readonly innerCode?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'KvError';
  }

  body(): KvErrorBody {
    const error: KvErrorBody['error'] = { code: this.code, message: this.message };
    if (this.innerCode) error.innererror = { code: this.innerCode };
    return { error };
  }
}

export const badParameter = (message: string): KvError => new KvError(400, 'BadParameter', message);

/**
 * What Key Vault never accepts in a name or subject: control characters (C0, DEL, C1) and UTF-16
 * that is not well formed (a lone surrogate, which JSON's \uD800 escape can carry; with the u
 * flag a paired surrogate is one code point, so \p{Cs} matches lone ones only).
 */
export const CONTROL_CHARACTER = /\p{Cc}|\p{Cs}/u;

/** `value` for an error message: those characters as \uXXXX, so the message stays one readable line. */
export function shown(value: string, max = 130): string {
  return value
    .slice(0, max)
    .replace(/\p{Cc}|\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const keyNotFound = (name: string, version?: string): KvError =>
  new KvError(
    404,
    'KeyNotFound',
    `A key with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );

export const certificateNotFound = (name: string, version?: string): KvError =>
  new KvError(
    404,
    'CertificateNotFound',
    `A certificate with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );

/** RBAC refusal, worded like Azure's so log readers recognise it. */
export const forbiddenByRbac = (caller: string, action: string, resource: string): KvError =>
  new KvError(
    403,
    'Forbidden',
    `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: ${caller}\r\nAction: '${action}'\r\nResource: '${resource}'\r\nAssignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'`,
    'ForbiddenByRbac',
  );
