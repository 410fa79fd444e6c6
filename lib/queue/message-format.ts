/**
 * The SQS message format shared by the lanes, the intake queue and the dead-letter queue: the body is the
 * webhook's own `{"UserAttrs":[...]}` or `{"UserTags":[...]}`, so any message can be replayed to the queue or the
 * webhook as is.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { sqsSafeJson } from './sqs-text.ts';

/** Message attribute names (SQS allows 10 per message). */
export const ATTR = {
  requestId: 'requestId',
  origin: 'origin',
  errorCode: 'ErrorCode',
  errorInfo: 'ErrorInfo',
  rule: 'rule',
  reason: 'reason',
  records: 'records',
  /** Set on a dead letter whose body had to be cut to fit SQS: the whole body's UTF-8 bytes and SHA-256 (hex). */
  bodyBytes: 'bodyBytes',
  bodySha256: 'bodySha256',
} as const;

/** SQS's limit for one message, and for one SendMessageBatch call, body and attributes together. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

export interface OutgoingMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** IM's body shape, `null` values (removals) included. */
export function userUpdatesBody(users: readonly unknown[]): string {
  return sqsSafeJson({ UserAttrs: users });
}

/** A tags body: `{"UserTags":[{"To_Account","RemoveAll","Remove","Add"}…]}` (docs/webhook.md). */
export function userTagsBody(entries: readonly unknown[]): string {
  return sqsSafeJson({ UserTags: entries });
}

/** A lane message's body: its attribute updates, or its tag operations. */
export function laneBody(message: { readonly users: readonly unknown[]; readonly tags?: readonly unknown[] }): string {
  return message.tags === undefined ? userUpdatesBody(message.users) : userTagsBody(message.tags);
}

export function toSqsAttributes(attributes: Readonly<Record<string, string>>): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  // SQS refuses empty string attribute values.
  for (const [name, value] of Object.entries(attributes))
    if (value !== '') out[name] = { DataType: 'String', StringValue: value };
  return out;
}

/** Bytes SQS counts for a message: the body plus each attribute's name, type and value. */
export function messageSize(message: OutgoingMessage): number {
  let size = Buffer.byteLength(message.body);
  for (const [name, value] of Object.entries(message.attributes))
    size += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  return size;
}
