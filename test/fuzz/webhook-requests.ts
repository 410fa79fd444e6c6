import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { apiEvent } from '../helpers/factories.ts';
import { bodyText } from './body-arbitraries.ts';

/** One fuzzed webhook request: its body and what surrounds it. */
export interface WebhookRequest {
  readonly body: string;
  /** `undefined`: no Content-Type header at all. */
  readonly contentType: string | undefined;
  /** HTTP APIs lower-case header names; direct invokes may not. */
  readonly headerName: 'content-type' | 'Content-Type';
  readonly base64: boolean;
  readonly auth: 'signed' | 'unsigned' | 'wrong-secret';
}

const WRONG_SECRET = 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==';

const contentTypeArbitrary = fc.oneof(
  { weight: 20, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/cloudevents+json',
      'application/json ;charset=UTF-8',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      '',
      'application/jsonx',
      'json',
      'multipart/form-data; boundary=x',
      'application/xml',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

/** Requests mostly signed and sent as JSON, so most cases reach the body rules. */
export const webhookRequestArbitrary: fc.Arbitrary<WebhookRequest> = fc.record({
  body: bodyText,
  contentType: contentTypeArbitrary,
  headerName: fc.constantFrom('content-type', 'content-type', 'content-type', 'Content-Type'),
  base64: fc.nat(9).map((n) => n === 0),
  auth: fc.oneof(
    { weight: 40, arbitrary: fc.constant('signed' as const) },
    { weight: 1, arbitrary: fc.constantFrom('unsigned' as const, 'wrong-secret' as const) },
  ),
});

/**
 * The API Gateway v2 event for a request. The body is made well-formed first: API Gateway hands a
 * Lambda UTF-8-decoded text, which never holds a lone surrogate.
 */
export function toApiEvent(request: WebhookRequest): APIGatewayProxyEventV2 {
  const sign = request.auth === 'signed' ? undefined : request.auth === 'unsigned' ? (false as const) : WRONG_SECRET;
  const event = apiEvent(request.body.toWellFormed(), {
    isBase64Encoded: request.base64,
    ...(sign === undefined ? {} : { sign }),
  });
  const headers: Record<string, string | undefined> = { ...event.headers };
  delete headers['content-type'];
  if (request.contentType !== undefined) headers[request.headerName] = request.contentType;
  return { ...event, headers };
}
