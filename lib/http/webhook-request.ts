/**
 * Reads an API Gateway HTTP API (payload 2.0) request in two steps: first size and authentication (the
 * cheap refusals, and what identifies the request across re-sends), then media type and JSON, which run
 * only for a request that will be handled.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { IdempotencyKey } from '../core/ports.ts';
import { WebhookAuthError, type WebhookAuthenticator } from '../webhook/webhook-authenticator.ts';
import { RequestRefusedError } from './request-errors.ts';

export interface WebhookRequestOptions {
  readonly maxBodyBytes: number;
  readonly auth: 'standard-webhooks' | 'none';
  readonly authenticator: WebhookAuthenticator;
  /** The `whsec_…` secret, read from the credentials only when signatures are checked. */
  readonly webhookSecret: () => Promise<string | undefined>;
}

/** An authenticated request, not parsed yet. */
export interface AuthenticatedRequest {
  readonly rawBody: string;
  /** `webhook-id`, or in IAM mode the `Idempotency-Key` header when sent; undefined: no re-send is recognised. */
  readonly key: IdempotencyKey | undefined;
  /** False for a correctly signed request whose timestamp is over 5 minutes old. */
  readonly fresh: boolean;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
// Standard Webhooks ids and common idempotency keys are short; a long one is a mistake or an attack.
const MAX_KEY_CHARS = 256;

/** Lambda's cap on a synchronous invocation's event (6 MB); API Gateway answers a bigger one with its own opaque error. */
export const LAMBDA_EVENT_MAX_BYTES = 6_291_456;
/**
 * The function answers 413 when the event it received, JSON-serialized, is over this: the body sits in the
 * event JSON-escaped (each `"` and `\\` costs one byte more, a control character up to five), next to the
 * headers and request context. A body of MAX_BODY_BYTES (6,000,000) without escapes fits; 91,456 bytes
 * below Lambda's cap, a margin for API Gateway serializing the event a little differently than V8 does.
 * Events over the cap itself never reach the function: API Gateway answers them (500) without a reason.
 */
export const MAX_EVENT_BYTES = 6_200_000;

/**
 * Size and authentication, cheapest refusal first: the declared length, the signature headers' formats and
 * timestamp window (or, in IAM mode, the IAM caller), the body's size, and only then the secret and
 * the HMAC over the body; the event's size last. Throws RequestRefusedError / WebhookAuthError.
 */
export async function authenticateRequest(
  event: APIGatewayProxyEventV2,
  options: WebhookRequestOptions,
): Promise<AuthenticatedRequest> {
  const declared = headerValue(event.headers, 'content-length')?.trim();
  if (declared !== undefined && /^\d{1,16}$/.test(declared) && Number(declared) > options.maxBodyBytes) {
    // The same answer as for a body measured over the limit: only which number was read first differs.
    throw new RequestRefusedError(
      413,
      'body',
      'body-max-bytes',
      `body: ${declared} bytes (content-length) exceeds the limit of ${options.maxBodyBytes} bytes`,
    );
  }
  if (options.auth === 'standard-webhooks') options.authenticator.inspect(event.headers ?? {});
  // IAM mode trusts API Gateway's IAM authorizer: without its caller identity the route was left open.
  const caller = options.auth === 'none' ? iamCallerOf(event) : undefined;
  if (options.auth === 'none' && caller === undefined) throw new WebhookAuthError('no-iam-caller');
  const raw = event.body ?? '';
  // API Gateway base64-encodes bodies it considers binary; the signature covers the decoded bytes.
  const rawBody = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const size = event.isBase64Encoded ? Buffer.from(raw, 'base64').length : Buffer.byteLength(rawBody);
  if (size > options.maxBodyBytes) {
    throw new RequestRefusedError(
      413,
      'body',
      'body-max-bytes',
      `body: ${size} bytes exceeds the limit of ${options.maxBodyBytes} bytes`,
    );
  }
  const bodyHash = (): string => createHash('sha256').update(rawBody).digest('base64');
  if (options.auth === 'standard-webhooks') {
    const { id, fresh } = options.authenticator.verify(rawBody, event.headers, await options.webhookSecret());
    refuseOversizedEvent(event);
    return { rawBody, key: { id: id.slice(0, MAX_KEY_CHARS), bodyHash: bodyHash() }, fresh };
  }
  refuseOversizedEvent(event);
  const header = headerValue(event.headers, 'idempotency-key')?.trim();
  if (header !== undefined && (header === '' || header.length > MAX_KEY_CHARS)) {
    throw new RequestRefusedError(
      400,
      'headers.idempotency-key',
      'idempotency-key-format',
      `headers.idempotency-key must be 1 to ${MAX_KEY_CHARS} characters`,
    );
  }
  // Keys are the callers' own: scoped by the caller's ARN, two producers using the same key never collide.
  return {
    rawBody,
    key: header === undefined ? undefined : { id: JSON.stringify([caller, header]), bodyHash: bodyHash() },
    fresh: true,
  };
}

/**
 * The event's own size, checked once the caller is authenticated: serializing a 5 MB event costs ~15 ms,
 * five times the native HMAC, and only a real caller needs the reason (a forged request gets its 401 first).
 */
function refuseOversizedEvent(event: APIGatewayProxyEventV2): void {
  const eventBytes = Buffer.byteLength(JSON.stringify(event));
  if (eventBytes > MAX_EVENT_BYTES) {
    throw new RequestRefusedError(
      413,
      'body',
      'event-max-bytes',
      `body: the request is ${eventBytes} bytes as Lambda receives it (the body JSON-escaped: each " and \\ counts twice, a control character up to six times), over the limit of ${MAX_EVENT_BYTES} bytes`,
    );
  }
}

/**
 * The IAM caller API Gateway's IAM authorizer put in `requestContext.authorizer.iam` (its ARN, else its account
 * and user id), or undefined when the authorizer did not run.
 */
function iamCallerOf(event: APIGatewayProxyEventV2): string | undefined {
  // The plain v2 event type declares no authorizer; events with one are a wider shape of it.
  const authorizer: unknown = Reflect.get(event.requestContext, 'authorizer');
  const iam: unknown =
    typeof authorizer === 'object' && authorizer !== null ? Reflect.get(authorizer, 'iam') : undefined;
  if (typeof iam !== 'object' || iam === null) return undefined;
  const field = (name: string): string => {
    const value: unknown = Reflect.get(iam, name);
    return typeof value === 'string' ? value : '';
  };
  return field('userArn') || `${field('accountId')}:${field('userId')}`;
}

/** Media type and JSON. Throws RequestRefusedError. */
export function parseJsonBody(event: APIGatewayProxyEventV2, rawBody: string): unknown {
  const contentType = headerValue(event.headers, 'content-type');
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) {
    throw new RequestRefusedError(
      415,
      'headers.content-type',
      'content-type-must-be-json',
      'headers.content-type: the body must be sent as application/json',
    );
  }
  try {
    return JSON.parse(rawBody);
  } catch (error) {
    // V8's message quotes part of the body, which may be personal data: only the position is kept.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    throw new RequestRefusedError(
      400,
      'body',
      'body-must-be-json',
      `body: not valid JSON${position === undefined ? '' : ` (at position ${position})`}`,
    );
  }
}

function headerValue(headers: APIGatewayProxyEventV2['headers'], name: string): string | undefined {
  // HTTP APIs lower-case header names; serverless-offline and direct invokes may not.
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}
