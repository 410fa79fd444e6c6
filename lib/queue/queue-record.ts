import type { SQSRecord } from 'aws-lambda';
import type { QueueRecord } from '../usecases/ports.ts';
import { ATTR } from './message-format.ts';

/** An SQS record as the use cases see it. */
export function toQueueRecord(record: SQSRecord): QueueRecord {
  const firstReceived = Number(record.attributes.ApproximateFirstReceiveTimestamp);
  return {
    id: record.messageId,
    receipt: record.receiptHandle,
    // A standard queue has no groups: each record is its own.
    group: record.attributes.MessageGroupId ?? record.messageId,
    body: record.body,
    receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
    firstReceivedAt: Number.isFinite(firstReceived) && firstReceived > 0 ? firstReceived : Date.now(),
    requestId: record.messageAttributes[ATTR.requestId]?.stringValue ?? record.messageId,
  };
}
