import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageSize, SQS_MAX_MESSAGE_BYTES, type OutgoingMessage } from '../../lib/queue/message-format.ts';
import { packBatches, QueuePublisher, QueuePublishError } from '../../lib/queue/queue-publisher.ts';

const QUEUE_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/tim-attr-overflow';
const sqs = mockClient(SQSClient);

const message = (n: number, attributes: Record<string, string> = {}): OutgoingMessage => ({ body: `{"UserAttrs":[{"To_Account":"u-${n}","Attrs":{}}]}`, attributes });
/** A message of exactly `bytes` bytes as SQS counts them (no attributes). */
const sized = (bytes: number): OutgoingMessage => ({ body: 'x'.repeat(bytes), attributes: {} });

const sentBatches = (): SendMessageBatchRequestEntry[][] => sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
const allSuccessful = (entries: readonly SendMessageBatchRequestEntry[]) => ({
  Successful: entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id ?? ''}`, MD5OfMessageBody: 'x' })),
  Failed: [],
});

describe('packBatches', () => {
  it('returns no batch for no message', () => {
    // Prepare
    const messages: OutgoingMessage[] = [];

    // Act
    const batches = packBatches(messages);

    // Assess
    expect(batches).toEqual([]);
  });

  it('puts at most 10 messages in a batch, keeping their order', () => {
    // Prepare
    const messages = Array.from({ length: 25 }, (_, i) => message(i));

    // Act
    const batches = packBatches(messages);

    // Assess
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(messages);
  });

  it('fills a batch up to exactly 1 MiB', () => {
    // Prepare
    const half = SQS_MAX_MESSAGE_BYTES / 2;
    const messages = [sized(half), sized(half)];

    // Act
    const batches = packBatches(messages);

    // Assess
    expect(batches.map((b) => b.length)).toEqual([2]);
  });

  it('starts a new batch when one more byte would pass 1 MiB', () => {
    // Prepare
    const half = SQS_MAX_MESSAGE_BYTES / 2;
    const messages = [sized(half), sized(half + 1), sized(10)];

    // Act
    const batches = packBatches(messages);

    // Assess
    expect(batches.map((b) => b.length)).toEqual([1, 2]);
  });

  it('counts UTF-8 bytes, not characters', () => {
    // Prepare: 300 000 CJK characters are 900 000 bytes
    const big: OutgoingMessage = { body: '中'.repeat(300_000), attributes: {} };
    const messages = [big, sized(200_000)];

    // Act
    const batches = packBatches(messages);

    // Assess
    expect(messageSize(big)).toBe(900_000);
    expect(batches.map((b) => b.length)).toEqual([1, 1]);
  });

  it('counts the attributes towards the batch size', () => {
    // Prepare
    const half = SQS_MAX_MESSAGE_BYTES / 2;
    const withAttribute: OutgoingMessage = { body: 'x'.repeat(half - 20), attributes: { requestId: 'r'.repeat(10) } };
    const messages = [sized(half), withAttribute];

    // Act
    const batches = packBatches(messages);

    // Assess: 20 bytes saved in the body, 9 + 6 + 10 = 25 spent in the attribute
    expect(messageSize(withAttribute)).toBe(half + 5);
    expect(batches.map((b) => b.length)).toEqual([1, 1]);
  });

  it('accepts one message of exactly 1 MiB on its own', () => {
    // Prepare
    const messages = [sized(10), sized(SQS_MAX_MESSAGE_BYTES), sized(10)];

    // Act
    const batches = packBatches(messages);

    // Assess
    expect(batches.map((b) => b.length)).toEqual([1, 1, 1]);
  });

  it('throws QueuePublishError for a message over 1 MiB', () => {
    // Prepare
    const messages = [sized(10), sized(SQS_MAX_MESSAGE_BYTES + 1)];

    // Act
    const act = () => packBatches(messages);

    // Assess
    expect(act).toThrow(QueuePublishError);
    expect(act).toThrow(`a message of ${SQS_MAX_MESSAGE_BYTES + 1} bytes exceeds SQS's ${SQS_MAX_MESSAGE_BYTES}`);
  });

  it('never builds a batch over 10 entries or 1 MiB, whatever the mix of sizes', () => {
    // Prepare: sizes from a fixed linear congruential sequence
    let seed = 12345;
    const nextSize = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % 400_000);
    };
    const messages = Array.from({ length: 200 }, () => sized(nextSize()));

    // Act
    const batches = packBatches(messages);

    // Assess
    expect(batches.flat()).toEqual(messages);
    for (const batch of batches) {
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(10);
      expect(batch.reduce((sum, m) => sum + messageSize(m), 0)).toBeLessThanOrEqual(SQS_MAX_MESSAGE_BYTES);
    }
  });
});

describe('QueuePublisher.publish', () => {
  beforeEach(() => {
    sqs.reset();
  });
  afterEach(() => {
    sqs.reset();
  });

  const publisher = (attempts?: number): QueuePublisher =>
    new QueuePublisher({ client: new SQSClient({ region: 'ap-southeast-1' }), queueUrl: QUEUE_URL, ...(attempts === undefined ? {} : { attempts }) });

  it('sends each batch as SendMessageBatch entries with ids, bodies and string attributes', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => allSuccessful(input.Entries));
    const messages = [message(0, { requestId: 'req-1', origin: 'api' }), message(1, { requestId: 'req-1', reason: '' })];

    // Act
    await publisher().publish(messages);

    // Assess
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      Entries: [
        { Id: '0', MessageBody: messages[0]?.body, MessageAttributes: { requestId: { DataType: 'String', StringValue: 'req-1' }, origin: { DataType: 'String', StringValue: 'api' } } },
        // SQS refuses empty attribute values: the empty `reason` is left out.
        { Id: '1', MessageBody: messages[1]?.body, MessageAttributes: { requestId: { DataType: 'String', StringValue: 'req-1' } } },
      ],
    });
  });

  it('makes one call per batch of 10', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => allSuccessful(input.Entries));
    const messages = Array.from({ length: 23 }, (_, i) => message(i));

    // Act
    await publisher().publish(messages);

    // Assess
    const batches = sentBatches();
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(batches.flat().map((e) => e.MessageBody)).toEqual(messages.map((m) => m.body));
  });

  it('makes no call for no message', async () => {
    // Prepare
    const messages: OutgoingMessage[] = [];

    // Act
    await publisher().publish(messages);

    // Assess
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('sends again only the entries SQS reported failed without sender fault', async () => {
    // Prepare
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'a', MD5OfMessageBody: 'x' }, { Id: '2', MessageId: 'c', MD5OfMessageBody: 'x' }],
        Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
      })
      .resolves({ Successful: [{ Id: '1', MessageId: 'b', MD5OfMessageBody: 'x' }], Failed: [] });
    const messages = [message(0), message(1), message(2)];

    // Act
    await publisher().publish(messages);

    // Assess
    const batches = sentBatches();
    expect(batches).toHaveLength(2);
    expect(batches[1]).toEqual([{ Id: '1', MessageBody: messages[1]?.body, MessageAttributes: {} }]);
  });

  it('throws QueuePublishError after 3 attempts by default, with the count still failing', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', Code: 'ServiceUnavailable', SenderFault: false }] });

    // Act
    const outcome = publisher().publish([message(0), message(1)]);

    // Assess
    await expect(outcome).rejects.toThrow(QueuePublishError);
    await expect(outcome).rejects.toMatchObject({ name: 'QueuePublishError', failedCount: 1, message: 'SQS failed 1 messages after 3 attempts' });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('honours the attempts option', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', Code: 'ServiceUnavailable', SenderFault: false }] });

    // Act
    const outcome = publisher(5).publish([message(0)]);

    // Assess
    await expect(outcome).rejects.toThrow('after 5 attempts');
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(5);
  });

  it('throws at once on a sender fault, naming its code, and sends no later batch', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [
        { Id: '3', Code: 'InvalidMessageContents', SenderFault: true },
        { Id: '4', Code: 'InternalError', SenderFault: false },
      ],
    });
    const messages = Array.from({ length: 15 }, (_, i) => message(i));

    // Act
    const outcome = publisher().publish(messages);

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'QueuePublishError', message: 'SQS refused a message: InvalidMessageContents', failedCount: 2 });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('refuses an over-size message before sending anything', async () => {
    // Prepare
    const messages = [message(0), sized(SQS_MAX_MESSAGE_BYTES + 1)];

    // Act
    const outcome = publisher().publish(messages);

    // Assess
    await expect(outcome).rejects.toThrow(QueuePublishError);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('passes on an error of the SendMessageBatch call itself', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).rejects(new Error('connect ECONNREFUSED'));

    // Act
    const outcome = publisher().publish([message(0)]);

    // Assess
    await expect(outcome).rejects.toThrow('connect ECONNREFUSED');
  });

  it('exposes the queue URL', () => {
    // Prepare
    const p = publisher();

    // Act
    const url = p.queueUrl;

    // Assess
    expect(url).toBe(QUEUE_URL);
  });
});
