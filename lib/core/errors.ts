/**
 * The gateway's errors, on one base as Powertools keeps one per package: `instanceof GatewayError` tells the
 * gateway's own errors from anything else. The kinds the core needs are defined here; each adapter defines its
 * own on the same base (`ImError`, `QueueSendError`, `ConfigError`, …) and maps what it catches onto them at the
 * boundary, so the core never names an adapter's error.
 */
import type { RequestShapeRule, UserRule } from './rules/types.ts';

/** The base of every error the gateway throws on purpose. */
export class GatewayError extends Error {
  override name = 'GatewayError';
}

/**
 * What a refused write means for its users, in the core's words (the IM adapter reads it from IM's ErrorCode,
 * Tencent doc 269/1671):
 * - `rate-limited`, `transient`: try again later;
 * - `configuration`: the gateway's own settings (app, region, admin): every call fails alike until they are fixed;
 * - `signature-stale`: re-signing cures it (the writer does that itself);
 * - `signature-wrong`: the credentials are wrong, and every call would fail alike;
 * - `permanent`: these users will never be accepted as they are.
 */
export type RetryClass =
  'rate-limited' | 'transient' | 'signature-stale' | 'signature-wrong' | 'configuration' | 'permanent';

/** Whether a refusal is worth another try of the same write later (after a backoff, or a fix of the configuration). */
export const isRetryable = (retryClass: RetryClass): boolean =>
  retryClass === 'rate-limited' || retryClass === 'transient' || retryClass === 'configuration';

/** What a {@link WriteRefusedError} carries. */
export interface WriteRefusal {
  /** The refusal's code (IM's ErrorCode, or a negative code for a failure of the transport). */
  readonly errorCode: number;
  readonly errorInfo: string;
  readonly errorClass: RetryClass;
  /** Attempts made before giving up (0 when none could start). */
  readonly attempts: number;
  /** No attempt could start before the caller's deadline: nothing was tried, so the users may go again at once. */
  readonly deadlineReached?: boolean;
  readonly cause?: unknown;
}

/** A write refused as a whole, after the writer's own retries. */
export class WriteRefusedError extends GatewayError {
  override name = 'WriteRefusedError';
  readonly errorCode: number;
  readonly errorInfo: string;
  readonly errorClass: RetryClass;
  readonly attempts: number;
  readonly deadlineReached: boolean;

  constructor(refusal: WriteRefusal, message: string) {
    super(message, refusal.cause === undefined ? undefined : { cause: refusal.cause });
    this.errorCode = refusal.errorCode;
    this.errorInfo = refusal.errorInfo;
    this.errorClass = refusal.errorClass;
    this.attempts = refusal.attempts;
    this.deadlineReached = refusal.deadlineReached ?? false;
  }
}

/**
 * Some users could not be written into their lanes, so the request was not accepted as a whole. Users
 * already in lanes stay there; the caller sends the request again with the same `webhook-id`, which adds
 * nothing twice (SQS deduplication, 5 minutes) and completes the rest.
 */
export class LanesUnavailableError extends GatewayError {
  override name = 'LanesUnavailableError';
  readonly accepted: number;
  readonly pending: number;
  constructor(message: string, counts: { accepted: number; pending: number }, options?: ErrorOptions) {
    super(message, options);
    this.accepted = counts.accepted;
    this.pending = counts.pending;
  }
}
/** A request with this key is still being handled by another delivery: the caller retries later (409). */
export class RequestInProgressError extends GatewayError {
  override name = 'RequestInProgressError';
}

/** The key was used before for a different body (409 would mislead: it will never succeed). */
export class RequestKeyReusedError extends GatewayError {
  override name = 'RequestKeyReusedError';
}

/** The idempotency store could not be read or written: nothing was applied, and the caller sends again (503). */
export class IdempotencyUnavailableError extends GatewayError {
  override name = 'IdempotencyUnavailableError';
}

/** A correctly signed request, too old to be applied, and no completed request to answer it from. */
export class StaleRequestError extends GatewayError {
  override name = 'StaleRequestError';
}

/**
 * The whole request is unusable: the body is not an object, or it has no `UserAttrs` array (or, for the
 * strict `parseUserAttrsBody`, one of its users breaks a rule). Distinct from a per-user `Rejection`,
 * which leaves the other users of the request going on.
 */
export class RequestShapeError extends GatewayError {
  override name = 'RequestShapeError';
  /** Where the fault is, e.g. `UserAttrs` or `UserAttrs[3].Attrs.city`; empty for the body itself. */
  readonly path: string;
  /** The stable rule name, e.g. `user-attrs-must-be-array`. */
  readonly rule: RequestShapeRule | UserRule;

  constructor(
    path: string,
    rule: RequestShapeRule | UserRule,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.path = path;
    this.rule = rule;
  }
}
