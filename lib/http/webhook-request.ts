/**
 * Reads an API Gateway HTTP API (payload 2.0) request: size, authentication, media type and JSON, in that
 * order — the cheap refusals first, and nothing parsed before the signature is known to be good.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { WebhookAuthenticator } from '../webhook/webhook-authenticator.ts';
import { RequestRefusedError } from './request-errors.ts';

export interface WebhookRequestOptions {
  readonly maxBodyBytes: number;
  readonly auth: 'standard-webhooks' | 'none';
  readonly authenticator: WebhookAuthenticator;
  /** The `whsec_…` secret, read from the credentials only when signatures are checked. */
  readonly webhookSecret: () => Promise<string | undefined>;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Returns the parsed JSON body, or throws RequestRefusedError / WebhookAuthError. */
export async function readWebhookRequest(event: APIGatewayProxyEventV2, options: WebhookRequestOptions): Promise<unknown> {
  const raw = event.body ?? '';
  // API Gateway base64-encodes bodies it considers binary; the signature covers the decoded bytes.
  const rawBody = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  const size = event.isBase64Encoded ? Buffer.from(raw, 'base64').length : Buffer.byteLength(rawBody);
  if (size > options.maxBodyBytes) {
    throw new RequestRefusedError(413, 'body', 'body-max-bytes', `body: ${size} bytes exceeds the limit of ${options.maxBodyBytes} bytes`);
  }
  if (options.auth === 'standard-webhooks') {
    options.authenticator.verify(rawBody, event.headers, await options.webhookSecret());
  }
  const contentType = headerValue(event.headers, 'content-type');
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) {
    throw new RequestRefusedError(415, 'headers.content-type', 'content-type-must-be-json', 'headers.content-type: the body must be sent as application/json');
  }
  try {
    return JSON.parse(rawBody);
  } catch (error) {
    throw new RequestRefusedError(400, 'body', 'body-must-be-json', `body: not valid JSON (${error instanceof Error ? error.message.slice(0, 200) : 'parse error'})`);
  }
}

function headerValue(headers: APIGatewayProxyEventV2['headers'], name: string): string | undefined {
  // HTTP APIs lower-case header names; serverless-offline and direct invokes may not.
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}
