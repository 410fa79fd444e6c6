import { describe, expect, it } from 'vitest';
import { acceptedResponse, errorResponse } from '../../lib/http/responses.ts';
import type { AcceptWebhookResult } from '../../lib/core/usecases/accept-webhook.ts';
import { LanesUnavailableError, RequestInProgressError } from '../../lib/core/errors.ts';

const result = (overrides: Partial<AcceptWebhookResult>): AcceptWebhookResult => ({
  requestId: 'req-1',
  received: 0,
  merged: 0,
  accepted: 0,
  applied: 0,
  queued: 0,
  rejected: [],
  ...overrides,
});

describe('answers', () => {
  it('keeps an answer with 20,000 rejected users under 350 KB (it is stored in one DynamoDB item of at most 400 KB), counts exact', () => {
    // Prepare
    const rejected = Array.from({ length: 20_000 }, (_, i) => ({
      To_Account: `${'界'.repeat(10)}-${i}`,
      path: `UserAttrs[${i}].Attrs.${'n'.repeat(50)}`,
      rule: 'value-max-50-bytes',
      message: `UserAttrs[${i}].Attrs.${'n'.repeat(50)} must be at most 50 bytes in UTF-8 (it is 51 bytes) [value-max-50-bytes].`,
    }));

    // Act
    const answer = acceptedResponse(result({ received: 20_000, rejected }));

    // Assess
    expect(Buffer.byteLength(answer.body)).toBeLessThan(350_000);
    const body = JSON.parse(answer.body) as {
      Rejected: number;
      RejectedUsers: unknown[];
      RejectedUsersOmitted: number;
    };
    expect(answer.statusCode).toBe(422);
    expect(body.Rejected).toBe(20_000);
    expect(body.RejectedUsers.length + body.RejectedUsersOmitted).toBe(20_000);
    expect(body.RejectedUsers.length).toBeGreaterThan(100);
  });

  it.each([
    [200, { received: 3, accepted: 3, applied: 3 }],
    [202, { received: 3, accepted: 3, applied: 1, queued: 2 }],
    [200, { received: 0 }],
  ])('answers %i for %o', (status, counts) => {
    // Act
    const answer = acceptedResponse(result(counts));

    // Assess
    expect(answer.statusCode).toBe(status);
  });

  it('answers 503 naming what was and was not queued, and 409 with Retry-After', () => {
    // Act
    const unavailable = errorResponse(new LanesUnavailableError('x', { accepted: 5, pending: 7 }), 'req-2');
    const inProgress = errorResponse(new RequestInProgressError('x'), 'req-3');

    // Assess
    expect(unavailable.statusCode).toBe(503);
    expect(JSON.parse(unavailable.body)).toMatchObject({
      ErrorCode: 1503,
      Accepted: 5,
      Pending: 7,
      RequestId: 'req-2',
    });
    expect(inProgress.statusCode).toBe(409);
    expect(inProgress.headers).toMatchObject({ 'retry-after': '5' });
  });
});
