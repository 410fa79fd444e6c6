/**
 * Reads an API Gateway HTTP API (payload 2.0) request in two steps: first size and authentication (the
 * cheap refusals, and what identifies the request across re-sends), then media type and JSON, which run
 * only for a request that will be handled.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { IdempotencyKey } from '../usecases/ports.ts';
import type { WebhookAuthenticator } from '../webhook/webhook-authenticator.ts';
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

/** Size and authentication. Throws RequestRefusedError / WebhookAuthError. */
export async function authenticateRequest(event: APIGatewayProxyEventV2, options: WebhookRequestOptions): Promise<AuthenticatedRequest> {
  const raw = event.body ?? '';
  // API Gateway base64-encodes bodies it considers binary; the signature covers the decoded bytes.
  const rawBody = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const size = event.isBase64Encoded ? Buffer.from(raw, 'base64').length : Buffer.byteLength(rawBody);
  if (size > options.maxBodyBytes) {
    throw new RequestRefusedError(413, 'body', 'body-max-bytes', `body: ${size} bytes exceeds the limit of ${options.maxBodyBytes} bytes`);
  }
  const bodyHash = (): string => createHash('sha256').update(rawBody).digest('base64');
  if (options.auth === 'standard-webhooks') {
    const { id, fresh } = options.authenticator.verify(rawBody, event.headers, await options.webhookSecret());
    return { rawBody, key: { id: id.slice(0, MAX_KEY_CHARS), bodyHash: bodyHash() }, fresh };
  }
  const header = headerValue(event.headers, 'idempotency-key')?.trim();
  if (header !== undefined && (header === '' || header.length > MAX_KEY_CHARS)) {
    throw new RequestRefusedError(400, 'headers.idempotency-key', 'idempotency-key-format', `headers.idempotency-key must be 1 to ${MAX_KEY_CHARS} characters`);
  }
  return { rawBody, key: header === undefined ? undefined : { id: header, bodyHash: bodyHash() }, fresh: true };
}

/** Media type and JSON. Throws RequestRefusedError. */
export function parseJsonBody(event: APIGatewayProxyEventV2, rawBody: string): unknown {
  const contentType = headerValue(event.headers, 'content-type');
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) {
    throw new RequestRefusedError(415, 'headers.content-type', 'content-type-must-be-json', 'headers.content-type: the body must be sent as application/json');
  }
  try {
    return JSON.parse(rawBody);
  } catch (error) {
    // V8's message quotes part of the body, which may be personal data: only the position is kept.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    throw new RequestRefusedError(400, 'body', 'body-must-be-json', `body: not valid JSON${position === undefined ? '' : ` (at position ${position})`}`);
  }
}

function headerValue(headers: APIGatewayProxyEventV2['headers'], name: string): string | undefined {
  // HTTP APIs lower-case header names; serverless-offline and direct invokes may not.
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}
