/** Record and event factories with the shapes AWS really delivers. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { createLambdaContext } from '../../local/lambda-context.ts';
import type { UserAttr } from '../../lib/core/rules/types.ts';

export const TEST_CREDENTIALS = {
  sdkAppId: 1400000001,
  identifier: 'administrator',
  secretKey: 'test-secret-key-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e',
  webhookSecret: 'whsec_dGVzdC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm',
} as const;

export const ATTR_NAMES = ['sex', 'city', 'tier', 'lang'] as const;

/** `count` valid users `prefix-0…`, attributes drawn from the registered names. */
export function makeUsers(count: number, prefix = 'u', start = 0): UserAttr[] {
  return Array.from({ length: count }, (_, i) => ({
    To_Account: `${prefix}-${start + i}`,
    Attrs: { city: `city-${(start + i) % 97}`, tier: `t${(start + i) % 5}` },
  }));
}

export interface ApiEventOptions {
  readonly headers?: Record<string, string>;
  /** The route's path. @default '/v1/user-attrs' */
  readonly path?: '/v1/user-attrs' | '/v1/user-tags';
  /** Signs with this secret (Standard Webhooks); `false` sends no signature. */
  readonly sign?: string | false;
  readonly signedAt?: Date;
  readonly webhookId?: string;
  readonly isBase64Encoded?: boolean;
  /** Adds the caller identity API Gateway's IAM authorizer puts in `requestContext.authorizer.iam` (the route's aws_iam auth). */
  readonly iamCaller?: boolean | string;
}

/** What API Gateway's IAM authorizer adds to the request context of a signed (SigV4) request. */
const IAM_AUTHORIZER = {
  authorizer: {
    iam: {
      accessKey: 'ASIAEXAMPLEKEY',
      accountId: '123456789012',
      callerId: 'AROAEXAMPLEROLEID:producer',
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: 'arn:aws:sts::123456789012:assumed-role/producer/session',
      userId: 'AROAEXAMPLEROLEID:producer',
    },
  },
};

/** A real API Gateway HTTP API (payload 2.0) event for `POST /v1/user-attrs` (or `options.path`). */
export function apiEvent(body: string, options: ApiEventOptions = {}): APIGatewayProxyEventV2 {
  const now = Date.now();
  const path = options.path ?? '/v1/user-attrs';
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    host: 'abc123.execute-api.ap-southeast-1.amazonaws.com',
    ...options.headers,
  };
  const secret = options.sign === undefined ? TEST_CREDENTIALS.webhookSecret : options.sign;
  if (secret !== false) {
    const id = options.webhookId ?? `msg_${randomUUID()}`;
    const at = options.signedAt ?? new Date(now);
    headers['webhook-id'] = id;
    headers['webhook-timestamp'] = String(Math.floor(at.getTime() / 1000));
    headers['webhook-signature'] = new Webhook(secret).sign(id, at, body);
  }
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.ap-southeast-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'test',
      },
      requestId: `req-${randomUUID()}`,
      routeKey: `POST ${path}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
      ...(options.iamCaller === true ? IAM_AUTHORIZER : {}),
      ...(typeof options.iamCaller === 'string'
        ? { authorizer: { iam: { ...IAM_AUTHORIZER.authorizer.iam, userArn: options.iamCaller } } }
        : {}),
    },
    body: options.isBase64Encoded === true ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

export function lambdaContext(timeoutMs = 29_000, functionName = 'tim-attr-gateway-test-api'): Context {
  return createLambdaContext({ functionName, timeoutMs });
}

/** A handler's JSON answer body. */
export function parseBody(result: { body?: string }): Record<string, unknown> {
  return JSON.parse(result.body ?? '{}') as Record<string, unknown>;
}
