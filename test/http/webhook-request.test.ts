import { describe, expect, it, vi } from 'vitest';
import { RequestRefusedError } from '../../lib/http/request-errors.ts';
import {
  authenticateRequest,
  LAMBDA_EVENT_MAX_BYTES,
  MAX_EVENT_BYTES,
  parseJsonBody,
  type WebhookRequestOptions,
} from '../../lib/http/webhook-request.ts';
import { WebhookAuthenticator, WebhookAuthError } from '../../lib/webhook/webhook-authenticator.ts';
import { apiEvent, TEST_CREDENTIALS } from '../helpers/factories.ts';

const BODY = JSON.stringify({ UserAttrs: [{ To_Account: 'u-1', Attrs: { city: 'Lyon' } }] });
const MAX_BODY_BYTES = 6_000_000;

/** Options whose secret reader counts its calls: a refusal before it never read the secret nor computed an HMAC. */
function options(overrides: Partial<WebhookRequestOptions> = {}) {
  const webhookSecret = vi.fn(async (): Promise<string | undefined> => TEST_CREDENTIALS.webhookSecret);
  return {
    webhookSecret,
    options: {
      maxBodyBytes: MAX_BODY_BYTES,
      auth: 'standard-webhooks' as const,
      authenticator: new WebhookAuthenticator(),
      webhookSecret,
      ...overrides,
    },
  };
}

/** The error `authenticateRequest` rejects with (fails the test when it resolves). */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('the request was accepted');
}

const signed = apiEvent(BODY).headers;
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('authenticateRequest: cheap refusals before the secret and the HMAC', () => {
  it('answers 413 from the content-length header alone, before reading the body or the secret', async () => {
    // Prepare
    const { webhookSecret, options: o } = options();
    const event = apiEvent(BODY, { headers: { 'content-length': '7000000' } });

    // Act
    const error = await refusal(authenticateRequest(event, o));

    // Assess
    expect(error).toBeInstanceOf(RequestRefusedError);
    expect(error).toMatchObject({
      status: 413,
      path: 'body',
      rule: 'body-max-bytes',
      message: 'body: 7000000 bytes (content-length) exceeds the limit of 6000000 bytes',
    });
    expect(webhookSecret).not.toHaveBeenCalled();
  });

  it.each([
    ['an id with a space', { 'webhook-id': 'msg 1' }, 'bad-id'],
    ['an id of 257 characters', { 'webhook-id': 'm'.repeat(257) }, 'bad-id'],
    ['an id with a control character', { 'webhook-id': 'msg\u00011' }, 'bad-id'],
    ['a timestamp that is not digits', { 'webhook-timestamp': '17e8' }, 'bad-timestamp'],
    ['a timestamp one hour in the future', { 'webhook-timestamp': String(nowSeconds() + 3600) }, 'bad-timestamp'],
    ['a signature that is not base64', { 'webhook-signature': 'v1,not base64!' }, 'bad-signature-format'],
    [
      'a v1 signature too short for an HMAC-SHA256',
      { 'webhook-signature': `v1,${Buffer.alloc(16).toString('base64')}` },
      'bad-signature-format',
    ],
    [
      'only signatures of other versions',
      { 'webhook-signature': `v1a,${Buffer.alloc(64).toString('base64')}` },
      'bad-signature-format',
    ],
    [
      'a signature header of 2,000 characters',
      { 'webhook-signature': Array.from({ length: 45 }, () => `v1,${Buffer.alloc(32).toString('base64')}`).join(' ') },
      'bad-signature-format',
    ],
  ])('refuses %s as 401 without reading the secret', async (_label, headers, reason) => {
    // Prepare
    const { webhookSecret, options: o } = options();
    const event = apiEvent(BODY, { sign: false, headers: { ...signed, ...headers } });

    // Act
    const error = await refusal(authenticateRequest(event, o));

    // Assess
    expect(error).toBeInstanceOf(WebhookAuthError);
    expect(error).toMatchObject({ reason });
    expect(webhookSecret).not.toHaveBeenCalled();
  });

  it('still checks the signature of a stale request, so a signed late re-send can be answered from the store', async () => {
    // Prepare
    const { webhookSecret, options: o } = options();
    const old = new Date(Date.now() - 60 * 60_000);
    const event = apiEvent(BODY, { signedAt: old, webhookId: 'msg_old' });
    const forged = apiEvent(BODY, { signedAt: old, sign: 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==' });

    // Act
    const request = await authenticateRequest(event, o);
    const error = await refusal(authenticateRequest(forged, o));

    // Assess
    expect(request).toMatchObject({ fresh: false, key: { id: 'msg_old' } });
    expect(error).toMatchObject({ reason: 'bad-signature' });
    expect(webhookSecret).toHaveBeenCalledTimes(2);
  });

  it('answers 413 when the body, JSON-escaped inside the event, passes the event limit although its own size is under the body limit', async () => {
    // Prepare: every `\"` of the body (2 bytes) is 4 bytes in the event.
    const { options: o } = options();
    const body = (pairs: number) => `{"UserAttrs":[],"x":"${'\\"'.repeat(pairs)}"}`;
    const over = body(1_560_000);
    const under = body(1_540_000);

    // Act
    const error = await refusal(authenticateRequest(apiEvent(over), o));
    const accepted = await authenticateRequest(apiEvent(under), o);

    // Assess
    expect(Buffer.byteLength(over)).toBeLessThan(MAX_BODY_BYTES);
    expect(Buffer.byteLength(JSON.stringify(apiEvent(over)))).toBeGreaterThan(MAX_EVENT_BYTES);
    expect(error).toBeInstanceOf(RequestRefusedError);
    expect(error).toMatchObject({ status: 413, path: 'body', rule: 'event-max-bytes' });
    expect(accepted.fresh).toBe(true);
  });

  it("keeps the event limit below Lambda's 6 MB cap and above a body of MAX_BODY_BYTES without escapes", async () => {
    // Prepare
    const { options: o } = options();
    const plain = `{"UserAttrs":[],"x":"${'x'.repeat(MAX_BODY_BYTES - 23)}"}`;

    // Act
    const request = await authenticateRequest(apiEvent(plain), o);

    // Assess
    expect(Buffer.byteLength(plain)).toBe(MAX_BODY_BYTES);
    expect(request.fresh).toBe(true);
    expect(LAMBDA_EVENT_MAX_BYTES - MAX_EVENT_BYTES).toBeGreaterThanOrEqual(64 * 1024);
  });
});

describe('authenticateRequest in IAM mode (WEBHOOK_AUTH=none)', () => {
  it('refuses a request that no IAM authorizer let through, and accepts one that carries the IAM caller', async () => {
    // Prepare
    const { options: o } = options({ auth: 'none' });
    const open = apiEvent(BODY, { sign: false });
    const viaIam = apiEvent(BODY, { sign: false, iamCaller: true, headers: { 'idempotency-key': 'order-1' } });

    // Act
    const error = await refusal(authenticateRequest(open, o));
    const request = await authenticateRequest(viaIam, o);

    // Assess
    expect(error).toBeInstanceOf(WebhookAuthError);
    expect(error).toMatchObject({ reason: 'no-iam-caller' });
    expect(request).toMatchObject({ fresh: true, key: { id: expect.stringContaining('order-1') } });
  });

  it("scopes an Idempotency-Key by the caller's ARN: two producers using the same key never share a record", async () => {
    // Prepare
    const { options: o } = options({ auth: 'none' });
    const headers = { 'idempotency-key': 'order-1' };
    const billing = apiEvent(BODY, {
      sign: false,
      iamCaller: 'arn:aws:sts::123456789012:assumed-role/billing/s',
      headers,
    });
    const crm = apiEvent(BODY, { sign: false, iamCaller: 'arn:aws:sts::123456789012:assumed-role/crm/s', headers });

    // Act
    const [a, b, again] = await Promise.all([
      authenticateRequest(billing, o),
      authenticateRequest(crm, o),
      authenticateRequest(billing, o),
    ]);

    // Assess
    expect(a.key?.id).not.toBe(b.key?.id);
    expect(a.key?.id).toBe(again.key?.id);
    expect(a.key?.id).toContain('assumed-role/billing/s');
  });
});

describe('parseJsonBody', () => {
  it("refuses malformed JSON without V8's snippet of the body", () => {
    // Prepare: V8's message for this body quotes it: `Unexpected token 'a', "{"u": ann-lee}" is not valid JSON`.
    const body = '{"u": ann-lee}';
    let message = '';
    try {
      JSON.parse(body);
    } catch (error) {
      message = error instanceof Error ? error.message : '';
    }

    // Act
    let refused: unknown;
    try {
      parseJsonBody(apiEvent(body), body);
    } catch (error) {
      refused = error;
    }

    // Assess
    expect(message).toContain('ann-lee');
    expect(refused).toBeInstanceOf(RequestRefusedError);
    expect(refused).toMatchObject({ status: 400, rule: 'body-must-be-json' });
    expect(refused instanceof Error ? refused.message : '').toBe('body: not valid JSON');
  });
});
