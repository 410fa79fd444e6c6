import type { SQSRecord } from 'aws-lambda';
import type { Message } from '@aws-sdk/client-sqs';
import type { QueueRecord } from '../core/ports.ts';
import { ATTR } from './message-format.ts';

/** The fields a Lambda SQS record and a received SQS message both carry, under their own names. */
interface SqsFields {
  readonly id: string;
  readonly receipt: string;
  readonly body: string;
  readonly groupId: string | undefined;
  readonly receiveCount: string | undefined;
  readonly firstReceived: string | undefined;
  readonly requestId: string | undefined;
}

function queueRecordOf(fields: SqsFields): QueueRecord {
  const firstReceived = Number(fields.firstReceived);
  return {
    id: fields.id,
    receipt: fields.receipt,
    // A standard queue has no groups: each record is its own.
    group: fields.groupId ?? fields.id,
    body: fields.body,
    receiveCount: Number(fields.receiveCount) || 1,
    firstReceivedAt: Number.isFinite(firstReceived) && firstReceived > 0 ? firstReceived : Date.now(),
    requestId: fields.requestId ?? fields.id,
  };
}

/** An SQS record of a Lambda event as the use cases see it. */
export function toQueueRecord(record: SQSRecord): QueueRecord {
  return queueRecordOf({
    id: record.messageId,
    receipt: record.receiptHandle,
    body: record.body,
    groupId: record.attributes.MessageGroupId,
    receiveCount: record.attributes.ApproximateReceiveCount,
    firstReceived: record.attributes.ApproximateFirstReceiveTimestamp,
    requestId: record.messageAttributes[ATTR.requestId]?.stringValue,
  });
}

/** A message received with ReceiveMessage (the worker's own receives) as the use cases see it. */
export function receivedQueueRecord(message: Message): QueueRecord {
  const attributes = message.Attributes ?? {};
  return queueRecordOf({
    id: message.MessageId ?? '',
    receipt: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    groupId: attributes.MessageGroupId,
    receiveCount: attributes.ApproximateReceiveCount,
    firstReceived: attributes.ApproximateFirstReceiveTimestamp,
    requestId: message.MessageAttributes?.[ATTR.requestId]?.StringValue,
  });
}
