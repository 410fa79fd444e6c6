/**
 * The IM error codes this client knows, with their retry class (doc 269/1519 and 269/1671),
 * and the pseudo-codes it uses for failures that never produced an IM body.
 *
 * The retry classes are inferred from Tencent's wording ("请重试" = retry, "请降低请求频率" = slow down). Each
 * group says whose fault it is: transient (IM's side or the pace), the gateway's credentials or configuration
 * (never a user's: the lanes wait for a fix), or the users' (the request is wrong, and goes to the dead letters).
 */
import type { ErrorClass } from './types.ts';

/** Failure classes an IM ErrorCode can have (never 'ok'). */
export type FailureClass = Exclude<ErrorClass, 'ok'>;

/** One known code. */
export interface KnownErrorCode {
  readonly class: FailureClass;
  /** Short English meaning, safe for logs. */
  readonly meaning: string;
}

/**
 * Pseudo-codes for transport failures. They are negative so they can never collide with IM's codes,
 * which are all positive. An HTTP error status `s` maps to `-s` (e.g. 502 → -502), so the status is
 * still readable from the code.
 */
export const TRANSPORT_ERROR_CODES = {
  /** The client timeout elapsed before a complete answer arrived. */
  timeout: -1,
  /** The connection failed or was reset (ECONNRESET, ECONNREFUSED, socket hang up, DNS, TLS...). */
  connection: -2,
  /** No time was left before the caller's deadline to start (another) attempt. */
  deadline: -3,
  /** HTTP 200 whose body is not an IM answer (not JSON, or no ErrorCode): e.g. a proxy's page. */
  invalidResponse: -4,
} as const;

/** The pseudo-code of an HTTP error status. */
export const httpStatusCode = (status: number): number => -status;

/**
 * The IM codes by number; meanings are kept to what Tencent's error code pages state.
 *
 * 70050 (locked out for one minute after repeated signature failures) is put in the signature-wrong
 * family on purpose: the client then re-reads the credentials at most once and
 * retries at most once, only if they changed; it never retries in a loop, which would only extend the
 * lockout.
 */
export const IM_ERROR_CODES: ReadonlyMap<number, KnownErrorCode> = new Map<number, KnownErrorCode>([
  // Transient, the fleet's pace: slow down, retry with backoff.
  [60007, { class: 'rate-limited', meaning: 'REST call rate exceeded' }],
  [60011, { class: 'rate-limited', meaning: 'SDKAppID call rate exceeded' }],
  [60018, { class: 'rate-limited', meaning: 'rate limited' }],
  [60019, { class: 'rate-limited', meaning: 'rate limited' }],
  // Transient, IM's side: retry with jittered backoff.
  [60008, { class: 'transient', meaning: 'service timeout' }],
  [60013, { class: 'transient', meaning: 'transient server error, retry' }],
  [60014, { class: 'transient', meaning: 'transient server error, retry' }],
  [70169, { class: 'transient', meaning: 'internal timeout' }],
  [70500, { class: 'transient', meaning: 'internal server error' }],
  [91000, { class: 'transient', meaning: 'internal error, retry' }],
  // signature stale: sign anew, retry once
  [70001, { class: 'signature-stale', meaning: 'UserSig expired' }],
  [70052, { class: 'signature-stale', meaning: 'UserSig invalidated' }],
  // signature wrong: re-read credentials once (rotation), else fail
  [60004, { class: 'signature-wrong', meaning: 'UserSig check failed' }],
  [60005, { class: 'signature-wrong', meaning: 'UserSig check failed' }],
  [70002, { class: 'signature-wrong', meaning: 'UserSig check failed' }],
  [70003, { class: 'signature-wrong', meaning: 'UserSig check failed' }],
  [70005, { class: 'signature-wrong', meaning: 'UserSig check failed' }],
  [70009, { class: 'signature-wrong', meaning: 'UserSig does not match the key (rotated secret?)' }],
  [70013, { class: 'signature-wrong', meaning: 'UserSig check failed' }],
  [70014, { class: 'signature-wrong', meaning: 'UserSig check failed' }],
  [70050, { class: 'signature-wrong', meaning: 'locked out for one minute after repeated signature failures' }],
  // The gateway's configuration, not the users': the admin account, the app, the region or the push feature is
  // wrong in the secret or in IM's console. Every call would fail the same way until an operator fixes it, and
  // then every one would succeed: the lanes pause as in an outage (backoff, metric ImConfigurationErrors and its
  // alarm), and nothing is dead-lettered before the outage tolerance.
  [60010, { class: 'configuration', meaning: 'identifier is not an App admin' }],
  [70403, { class: 'configuration', meaning: 'identifier is not an App admin' }],
  [90009, { class: 'configuration', meaning: 'admin permission required' }],
  [60006, { class: 'configuration', meaning: 'app configuration' }],
  [60012, { class: 'configuration', meaning: 'app configuration' }],
  [60016, { class: 'configuration', meaning: 'app configuration' }],
  [60020, { class: 'configuration', meaning: 'app configuration' }],
  [60021, { class: 'configuration', meaning: 'app configuration' }],
  [70016, { class: 'configuration', meaning: 'SDKAppID not found in this region (wrong region?)' }],
  [70020, { class: 'configuration', meaning: 'SDKAppID not found in this region (wrong region?)' }],
  [90045, { class: 'configuration', meaning: 'push-to-all feature not enabled' }],
  // The users' fault: the request itself is wrong (a value, a name, an account), and sending it again cannot help.
  // request: the request is wrong
  [60002, { class: 'permanent', meaning: 'request invalid' }],
  [60003, { class: 'permanent', meaning: 'request invalid' }],
  [60009, { class: 'permanent', meaning: 'request invalid' }],
  [60015, { class: 'permanent', meaning: 'request invalid' }],
  [70402, { class: 'permanent', meaning: 'request invalid' }],
  [90001, { class: 'permanent', meaning: 'JSON parse failed' }],
  [90018, { class: 'permanent', meaning: 'too many accounts' }],
  [90033, { class: 'permanent', meaning: 'invalid attribute' }],
  // The user's fault: the account does not exist in IM.
  [70107, { class: 'permanent', meaning: 'account not imported' }],
]);
