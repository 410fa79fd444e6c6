import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';

/** Where fuzzed records claim to come from. */
export interface FuzzRecordSource {
  readonly queueArn: string;
  readonly awsRegion: string;
  /** Epoch ms the messages were sent; default `Date.now()`. */
  readonly sentAtMs?: number;
}

/** A message id shaped like SQS's (a UUID), unique per sequence number and repeatable. */
export function fuzzMessageId(sequence: number): string {
  const hex = sequence.toString(16).padStart(12, '0');
  return `f0220000-0000-4000-8000-${hex}`;
}

/**
 * A record as Lambda's SQS event source mapping delivers it (the shape of `toSqsRecord`'s output), built
 * directly so a fuzz case costs no queue round trip.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#example-standard-queue-message-event
 */
export function fuzzSqsRecord(body: string, sequence: number, source: FuzzRecordSource): SQSRecord {
  const messageId = fuzzMessageId(sequence);
  const sentAt = String(source.sentAtMs ?? Date.now());
  return {
    messageId,
    receiptHandle: Buffer.from(`${messageId}#${sequence}#fuzz-receipt`).toString('base64'),
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: sentAt,
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: sentAt,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: source.queueArn,
    awsRegion: source.awsRegion,
  };
}
