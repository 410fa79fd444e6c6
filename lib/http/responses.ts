/**
 * The one place where outcomes and errors become HTTP answers. Bodies use IM's envelope (`ActionStatus`,
 * `ErrorCode`, `ErrorInfo`) so callers that already speak IM read them the same way.
 */
import { RequestShapeError } from '../core/errors.ts';
import type { AcceptWebhookResult } from '../core/usecases/accept-webhook.ts';
import { StaleRequestError } from '../core/errors.ts';
import {
  IdempotencyUnavailableError,
  LanesUnavailableError,
  RequestInProgressError,
  RequestKeyReusedError,
} from '../core/errors.ts';
import type { StoredAnswer } from '../core/ports.ts';
import { WebhookAuthError } from '../webhook/webhook-authenticator.ts';
import { RequestRefusedError } from './request-errors.ts';

/** Gateway-level ErrorCodes (IM's own codes are 60000–99999 and never collide with these). */
export const GATEWAY_CODES = {
  ok: 0,
  someRejected: 1001,
  allRejected: 1002,
  badRequest: 1400,
  unauthorized: 1401,
  tooLarge: 1413,
  unsupportedMediaType: 1415,
  inProgress: 1409,
  keyReused: 1422,
  internal: 1500,
  lanesUnavailable: 1503,
} as const;

/** A delivery still in progress: seconds before the sender should try again. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Rejected users listed in one answer are capped by bytes: the answer is stored for re-deliveries in one
 * DynamoDB item (at most 400 KB), so it stays well below that; the counts stay exact.
 */
const MAX_REJECTED_LIST_BYTES = 300_000;

/** Echoed input is cut: a valid account is ≤ 32 bytes, so only a rejected one is ever shortened. */
function shorten<T extends string | null>(text: T, max = 64): T {
  return (text !== null && text.length > max ? `${text.slice(0, max)}…` : text) as T;
}

function json(statusCode: number, body: Record<string, unknown>, headers: Record<string, string> = {}): StoredAnswer {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** The rejected users to list, as many as fit the byte budget. */
function listedRejections(result: AcceptWebhookResult): Record<string, unknown>[] {
  const listed: Record<string, unknown>[] = [];
  let bytes = 0;
  for (const r of result.rejected) {
    const item = { To_Account: shorten(r.To_Account), Path: r.path, Rule: r.rule, Reason: shorten(r.message, 400) };
    bytes += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (bytes > MAX_REJECTED_LIST_BYTES) break;
    listed.push(item);
  }
  return listed;
}

/** What happened to the users, in words: nothing to say when none was rejected. */
function rejectionSummary(result: AcceptWebhookResult, noneAccepted: boolean): string {
  const rejected = result.rejected.length;
  if (rejected === 0) return '';
  if (noneAccepted)
    return `${rejected === 1 ? 'the user was' : `all ${rejected} users were`} rejected; nothing was applied or queued`;
  return `${rejected} of ${result.received} users rejected; the others were ${result.queued > 0 ? 'applied or queued' : 'applied'}`;
}

/**
 * 200 when every accepted user was applied early, 202 when some are left to their lanes, 422 when every
 * user was rejected.
 */
export function acceptedResponse(result: AcceptWebhookResult): StoredAnswer {
  const rejected = result.rejected.length;
  const noneAccepted = rejected > 0 && result.accepted === 0;
  const statusCode = noneAccepted ? 422 : result.queued > 0 ? 202 : 200;
  const errorCode =
    rejected === 0 ? GATEWAY_CODES.ok : noneAccepted ? GATEWAY_CODES.allRejected : GATEWAY_CODES.someRejected;
  const listed = listedRejections(result);
  return json(statusCode, {
    ActionStatus: rejected === 0 ? 'OK' : 'FAIL',
    ErrorCode: errorCode,
    ErrorInfo: rejectionSummary(result, noneAccepted),
    RequestId: result.requestId,
    Received: result.received,
    Merged: result.merged,
    Accepted: result.accepted,
    Applied: result.applied,
    Queued: result.queued,
    Rejected: rejected,
    RejectedUsers: listed,
    RejectedUsersOmitted: rejected - listed.length,
  });
}

/** Maps an error to its answer. Unknown errors reveal nothing beyond the request id. */
export function errorResponse(error: unknown, requestId: string): StoredAnswer {
  const fail = (
    status: number,
    code: number,
    info: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) =>
    json(status, { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, RequestId: requestId, ...extra }, headers);
  if (error instanceof WebhookAuthError || error instanceof StaleRequestError)
    return fail(401, GATEWAY_CODES.unauthorized, 'unauthorized');
  if (error instanceof RequestInProgressError) {
    return fail(
      409,
      GATEWAY_CODES.inProgress,
      'a delivery of this webhook-id is still in progress: send it again later',
      {},
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    );
  }
  if (error instanceof RequestKeyReusedError)
    return fail(422, GATEWAY_CODES.keyReused, 'this webhook-id was already used for a different body', {
      Rule: 'webhook-id-reused',
    });
  if (error instanceof RequestRefusedError) {
    const code =
      error.status === 413
        ? GATEWAY_CODES.tooLarge
        : error.status === 415
          ? GATEWAY_CODES.unsupportedMediaType
          : GATEWAY_CODES.badRequest;
    return fail(error.status, code, error.message, { Path: error.path, Rule: error.rule });
  }
  if (error instanceof RequestShapeError)
    return fail(400, GATEWAY_CODES.badRequest, error.message, { Path: error.path, Rule: error.rule });
  if (error instanceof IdempotencyUnavailableError) {
    return fail(
      503,
      GATEWAY_CODES.lanesUnavailable,
      'the gateway could not check for an earlier delivery of this request: send it again (same webhook-id)',
      {},
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    );
  }
  if (error instanceof LanesUnavailableError) {
    return fail(
      503,
      GATEWAY_CODES.lanesUnavailable,
      'some users could not be queued: send the same request again (same webhook-id); users already queued are not added twice',
      {
        Accepted: error.accepted,
        Pending: error.pending,
      },
    );
  }
  return fail(500, GATEWAY_CODES.internal, 'internal error');
}
