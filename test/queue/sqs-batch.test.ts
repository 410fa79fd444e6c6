import { describe, expect, it } from 'vitest';
import { messageSize, SQS_MAX_MESSAGE_BYTES, type OutgoingMessage } from '../../lib/queue/message-format.ts';
import { packBatches, QueueSendError } from '../../lib/queue/sqs-batch.ts';

const message = (n: number, attributes: Record<string, string> = {}): OutgoingMessage => ({
  body: `{"UserAttrs":[{"To_Account":"u-${n}","Attrs":{}}]}`,
  attributes,
});
/** A message of exactly `bytes` bytes as SQS counts them (no attributes). */
const sized = (bytes: number): OutgoingMessage => ({ body: 'x'.repeat(bytes), attributes: {} });

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

  it('throws QueueSendError for a message over 1 MiB', () => {
    // Prepare
    const messages = [sized(10), sized(SQS_MAX_MESSAGE_BYTES + 1)];

    // Act
    const act = () => packBatches(messages);

    // Assess
    expect(act).toThrow(QueueSendError);
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
