import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { settleBatch } from '../../local/batch-outcome.ts';

function record(messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: '{}',
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1',
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: '1',
    },
    messageAttributes: {},
    md5OfBody: '99914b932bd37a50b983c5e7c90ae93b',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:ap-southeast-1:000000000000:q',
    awsRegion: 'ap-southeast-1',
  };
}

const batch = [record('m1'), record('m2'), record('m3')];
const ids = (records: readonly SQSRecord[]): string[] => records.map((r) => r.messageId);

describe('settleBatch', () => {
  it('counts every record as succeeded when the handler returns nothing', () => {
    // Prepare
    const result = { kind: 'returned', response: undefined } as const;

    // Act
    const outcome = settleBatch(batch, result);

    // Assess
    expect(ids(outcome.succeeded)).toEqual(['m1', 'm2', 'm3']);
    expect(outcome.failed).toEqual([]);
    expect(outcome.wholeBatchFailure).toBeUndefined();
  });

  it('fails only the listed records', () => {
    // Prepare
    const response: SQSBatchResponse = { batchItemFailures: [{ itemIdentifier: 'm2' }] };

    // Act
    const outcome = settleBatch(batch, { kind: 'returned', response });

    // Assess
    expect(ids(outcome.succeeded)).toEqual(['m1', 'm3']);
    expect(ids(outcome.failed)).toEqual(['m2']);
  });

  it('fails the whole batch when an identifier is not in the batch', () => {
    // Prepare
    const response: SQSBatchResponse = { batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: '' }] };

    // Act
    const outcome = settleBatch(batch, { kind: 'returned', response });

    // Assess
    expect(outcome.succeeded).toEqual([]);
    expect(ids(outcome.failed)).toEqual(['m1', 'm2', 'm3']);
    expect(outcome.wholeBatchFailure).toBe('invalid-item-identifier');
  });

  it('fails the whole batch when the response is not a batch response', () => {
    // Prepare
    const responses: unknown[] = ['ok', { batchItemFailures: 'm1' }];

    // Act
    const outcomes = responses.map((response) => settleBatch(batch, { kind: 'returned', response }));

    // Assess
    expect(outcomes.map((o) => o.wholeBatchFailure)).toEqual(['invalid-response', 'invalid-response']);
    expect(outcomes.map((o) => o.succeeded.length)).toEqual([0, 0]);
  });

  it('counts every record as succeeded when batchItemFailures is absent or empty', () => {
    // Prepare
    const responses: unknown[] = [{}, { batchItemFailures: [] }, null];

    // Act
    const outcomes = responses.map((response) => settleBatch(batch, { kind: 'returned', response }));

    // Assess
    expect(outcomes.map((o) => o.succeeded.length)).toEqual([3, 3, 3]);
    expect(outcomes.map((o) => o.failed.length)).toEqual([0, 0, 0]);
  });

  it('fails the whole batch when the handler threw or timed out', () => {
    // Prepare
    const threw = { kind: 'threw', error: new Error('boom') } as const;
    const timedOut = { kind: 'timed-out', timeoutMs: 10 } as const;

    // Act
    const outcomes = [settleBatch(batch, threw), settleBatch(batch, timedOut)];

    // Assess
    expect(outcomes.map((o) => o.wholeBatchFailure)).toEqual(['threw', 'timed-out']);
    expect(outcomes.map((o) => o.failed.length)).toEqual([3, 3]);
  });
});
