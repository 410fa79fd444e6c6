import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSMessageAttribute, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

/** Where a record came from, as Lambda's event source mapping reports it. */
export interface SqsRecordSource {
  /** ARN of the queue the message was received from. */
  readonly queueArn: string;
  readonly awsRegion: string;
}

/** Thrown when SQS answers with a message lacking a field every Lambda record carries. */
export class IncompleteSqsMessageError extends Error {
  override readonly name = 'IncompleteSqsMessageError';
  readonly field: string;
  readonly messageId: string | undefined;

  constructor(field: string, messageId: string | undefined) {
    super(`received SQS message ${messageId ?? '(no id)'} has no ${field}`);
    this.field = field;
    this.messageId = messageId;
  }
}

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

// Lambda spells message attributes in camelCase, always with both list fields, binary values in base64.
function toLambdaAttribute(value: MessageAttributeValue): SQSMessageAttribute {
  return {
    dataType: value.DataType ?? 'String',
    ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
    ...(value.BinaryValue === undefined ? {} : { binaryValue: toBase64(value.BinaryValue) }),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map(toBase64),
  };
}

function systemAttributes(message: Message): SQSRecordAttributes {
  const raw = message.Attributes ?? {};
  const required = (
    name: 'ApproximateReceiveCount' | 'SentTimestamp' | 'SenderId' | 'ApproximateFirstReceiveTimestamp',
  ): string => {
    const value = raw[name];
    if (value === undefined) throw new IncompleteSqsMessageError(`Attributes.${name}`, message.MessageId);
    return value;
  };
  const optional = (
    name:
      'AWSTraceHeader' | 'SequenceNumber' | 'MessageGroupId' | 'MessageDeduplicationId' | 'DeadLetterQueueSourceArn',
  ) => (raw[name] === undefined ? {} : { [name]: raw[name] });
  return {
    ApproximateReceiveCount: required('ApproximateReceiveCount'),
    SentTimestamp: required('SentTimestamp'),
    SenderId: required('SenderId'),
    ApproximateFirstReceiveTimestamp: required('ApproximateFirstReceiveTimestamp'),
    ...optional('AWSTraceHeader'),
    ...optional('SequenceNumber'),
    ...optional('MessageGroupId'),
    ...optional('MessageDeduplicationId'),
    ...optional('DeadLetterQueueSourceArn'),
  };
}

/**
 * Turns a message from `ReceiveMessage` (asked with all system and message attributes) into the record
 * Lambda's SQS event source mapping delivers.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#example-standard-queue-message-event
 */
export function toSqsRecord(message: Message, source: SqsRecordSource): SQSRecord {
  const { MessageId, ReceiptHandle, Body, MD5OfBody } = message;
  if (MessageId === undefined) throw new IncompleteSqsMessageError('MessageId', undefined);
  if (ReceiptHandle === undefined) throw new IncompleteSqsMessageError('ReceiptHandle', MessageId);
  if (Body === undefined) throw new IncompleteSqsMessageError('Body', MessageId);
  if (MD5OfBody === undefined) throw new IncompleteSqsMessageError('MD5OfBody', MessageId);
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = toLambdaAttribute(value);
  }
  return {
    messageId: MessageId,
    receiptHandle: ReceiptHandle,
    body: Body,
    attributes: systemAttributes(message),
    messageAttributes,
    md5OfBody: MD5OfBody,
    ...(message.MD5OfMessageAttributes === undefined ? {} : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: source.queueArn,
    awsRegion: source.awsRegion,
  };
}
