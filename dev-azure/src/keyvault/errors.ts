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
