/**
 * The one place where outcomes and errors become HTTP answers. Bodies use IM's envelope (`ActionStatus`,
 * `ErrorCode`, `ErrorInfo`) so callers that already speak IM read them the same way.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { RequestShapeError } from '../rules/request-shape-error.ts';
import type { AcceptWebhookResult } from '../usecases/accept-webhook.ts';
import { OverflowUnavailableError } from '../usecases/errors.ts';
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
  internal: 1500,
  queueUnavailable: 1503,
} as const;

/** Rejected users listed in one answer; ~1,000 × ≤ 600 bytes keeps the answer far below Lambda's 6 MB. */
export const MAX_REJECTED_LISTED = 1000;

/** Echoed input is cut: a valid account is ≤ 32 bytes, so only a rejected one is ever shortened. */
function shorten<T extends string | null>(text: T, max = 64): T {
  return (text !== null && text.length > max ? `${text.slice(0, max)}…` : text) as T;
}

function json(statusCode: number, body: Record<string, unknown>): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** 200 when every valid user was applied, 202 when some were queued, 422 when every user was rejected. */
export function acceptedResponse(result: AcceptWebhookResult): APIGatewayProxyStructuredResultV2 {
  const rejected = result.rejected.length;
  const noneAccepted = rejected > 0 && result.applied === 0 && result.queued === 0;
  const statusCode = noneAccepted ? 422 : result.queued > 0 ? 202 : 200;
  const errorCode = rejected === 0 ? GATEWAY_CODES.ok : noneAccepted ? GATEWAY_CODES.allRejected : GATEWAY_CODES.someRejected;
  return json(statusCode, {
    ActionStatus: rejected === 0 ? 'OK' : 'FAIL',
    ErrorCode: errorCode,
    ErrorInfo: rejected === 0 ? '' : `${rejected} of ${result.received} users rejected; the others were ${result.queued > 0 ? 'applied or queued' : 'applied'}`,
    RequestId: result.requestId,
    Received: result.received,
    Merged: result.merged,
    Applied: result.applied,
    Queued: result.queued,
    Rejected: rejected,
    // Lambda answers at most 6 MB: the list is capped, and the count above stays exact.
    RejectedUsers: result.rejected.slice(0, MAX_REJECTED_LISTED).map((r) => ({ To_Account: shorten(r.To_Account), Path: r.path, Rule: r.rule, Reason: shorten(r.message, 400) })),
    RejectedUsersOmitted: Math.max(0, rejected - MAX_REJECTED_LISTED),
  });
}

/** Maps an error to its answer. Unknown errors reveal nothing beyond the request id. */
export function errorResponse(error: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  const fail = (status: number, code: number, info: string, extra: Record<string, unknown> = {}) =>
    json(status, { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, RequestId: requestId, ...extra });
  if (error instanceof WebhookAuthError) return fail(401, GATEWAY_CODES.unauthorized, 'unauthorized');
  if (error instanceof RequestRefusedError) {
    const code = error.status === 413 ? GATEWAY_CODES.tooLarge : error.status === 415 ? GATEWAY_CODES.unsupportedMediaType : GATEWAY_CODES.badRequest;
    return fail(error.status, code, error.message, { Path: error.path, Rule: error.rule });
  }
  if (error instanceof RequestShapeError) return fail(400, GATEWAY_CODES.badRequest, error.message, { Path: error.path, Rule: error.rule });
  if (error instanceof OverflowUnavailableError) {
    return fail(503, GATEWAY_CODES.queueUnavailable, 'the remaining users could not be queued: send the request again (applying is idempotent)', { Applied: error.applied, Pending: error.pending });
  }
  return fail(500, GATEWAY_CODES.internal, 'internal error');
}
