/**
 * The IM ErrorCodes the emulator answers with (docs 269/1519, 269/1671, 269/45938; docs/im-api.md), and their ErrorInfo texts.
 */
export const ImErrorCode = {
  ok: 0,
  httpParseError: 60002,
  invalidParameter: 60003,
  restRateExceeded: 60007,
  serviceTimeout: 60008,
  userSigExpired: 70001,
  userSigMalformed: 70003,
  userSigBadSignature: 70009,
  userSigWrongSdkAppId: 70013,
  userSigWrongIdentifier: 70014,
  sdkAppIdMismatch: 70016,
  signatureLockout: 70050,
  accountNotImported: 70107,
  internalTimeout: 70169,
  jsonParseFailed: 90001,
  adminRequired: 90009,
  tooManyAccounts: 90018,
  invalidAttribute: 90033,
  internalError: 91000,
} as const;

export type ImErrorCodeValue = (typeof ImErrorCode)[keyof typeof ImErrorCode];

/** Default ErrorInfo per code; a command may give a more precise text. */
export const defaultErrorInfo: Readonly<Record<ImErrorCodeValue, string>> = {
  0: '',
  60002: 'HTTP parse error: check the URL query string (contenttype=json, random=uint32)',
  60003: 'invalid request parameter',
  60007: 'REST API call rate exceeded',
  60008: 'service request timeout, please retry',
  70001: 'UserSig expired',
  70003: 'UserSig invalid: cannot decode',
  70009: 'UserSig verification failed: signature does not match',
  70013: 'UserSig sdkappid does not match the request',
  70014: 'UserSig identifier does not match the request',
  70016: 'sdkappid not found or wrong region',
  70050: 'too many UserSig verification failures: locked for 1 minute',
  70107: 'account not imported',
  70169: 'internal server timeout, please retry',
  90001: 'JSON parse failed',
  90009: 'the request requires an App admin identifier',
  90018: 'too many accounts in one request',
  90033: 'invalid attribute',
  91000: 'internal service error, please retry',
};
