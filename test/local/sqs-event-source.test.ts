import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import type { FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../lib/config/config.ts';
import { messagesIn } from '../../lib/queue/queue-depth.ts';
import { createLocalQueues } from '../../local/local-queues.ts';
import { SqsEventSourceOptionsError, startSqsEventSource } from '../../local/sqs-event-source.ts';
import type { SqsEventSourceLogEntry } from '../../local/sqs-event-source.ts';

const region = 'ap-southeast-1';
let server: FauxqsServer;
let client: SQSClient;
let queueSerial = 0;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false, defaultRegion: region });
  client = new SQSClient({
    endpoint: server.address,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client.destroy();
  await server.stop();
});

interface StandardQueues {
  readonly sourceQueueUrl: string;
  readonly sourceQueueArn: string;
  readonly deadLetterQueueUrl: string;
}

async function createQueue(name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const { QueueUrl: url = '' } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: Attributes?.QueueArn ?? '' };
}

/** A fresh standard queue with a redrive policy per test; maxReceiveCount 2 keeps the redrive path short. */
async function freshQueues(): Promise<StandardQueues> {
  queueSerial += 1;
  const dlq = await createQueue(`dlq-${queueSerial}`, {});
  const source = await createQueue(`source-${queueSerial}`, {
    VisibilityTimeout: '30',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
  });
  return { sourceQueueUrl: source.url, sourceQueueArn: source.arn, deadLetterQueueUrl: dlq.url };
}

async function send(queueUrl: string, bodies: readonly string[]): Promise<void> {
  for (const body of bodies) {
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
      }),
    );
  }
}

/** Messages visible plus in flight plus delayed. */
const depth = (queueUrl: string): Promise<number> => messagesIn(client, queueUrl);

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function drainBodies(queueUrl: string): Promise<string[]> {
  const answer = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return (answer.Messages ?? []).map((m) => m.Body ?? '').sort();
}

/** Records every delivery: body → the ApproximateReceiveCount of each delivery. */
function deliveryLog(): { seen: Map<string, string[]>; note(record: SQSRecord): void } {
  const seen = new Map<string, string[]>();
  return {
    seen,
    note(record) {
      seen.set(record.body, [...(seen.get(record.body) ?? []), record.attributes.ApproximateReceiveCount]);
    },
  };
}

const quietLog = (_entry: SqsEventSourceLogEntry): void => undefined;

describe('startSqsEventSource', () => {
  it('deletes succeeded records and redelivers reported failures until the redrive policy moves them to the DLQ', async () => {
    // Prepare
    const queues = await freshQueues();
    await send(queues.sourceQueueUrl, ['ok-1', 'ok-2', 'fail-1', 'fail-2']);
    const log = deliveryLog();
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      event.Records.forEach((r) => log.note(r));
      return {
        batchItemFailures: event.Records.filter((r) => r.body.startsWith('fail')).map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    };

    // Act
    const source = startSqsEventSource({
      client,
      queueUrl: queues.sourceQueueUrl,
      handler,
      waitTimeSeconds: 1,
      concurrency: 2,
      retryVisibilitySeconds: 0,
      awsRegion: region,
      log: quietLog,
    });
    await waitFor(
      async () => (await depth(queues.deadLetterQueueUrl)) === 2 && (await depth(queues.sourceQueueUrl)) === 0,
    );
    await source.stop();

    // Assess
    expect(log.seen.get('ok-1')).toEqual(['1']);
    expect(log.seen.get('ok-2')).toEqual(['1']);
    expect(log.seen.get('fail-1')).toEqual(['1', '2']);
    expect(log.seen.get('fail-2')).toEqual(['1', '2']);
    expect(source.stats.deleted).toBe(2);
    expect(source.stats.failed).toBe(4);
    expect(await drainBodies(queues.deadLetterQueueUrl)).toEqual(['fail-1', 'fail-2']);
  });

  it('redelivers the whole batch when the handler throws', async () => {
    // Prepare
    const queues = await freshQueues();
    await send(queues.sourceQueueUrl, ['a', 'b']);
    const log = deliveryLog();
    let calls = 0;
    const handler = async (event: SQSEvent): Promise<void> => {
      event.Records.forEach((r) => log.note(r));
      calls += 1;
      if (calls === 1) throw new Error('first invocation fails');
    };
    const errors: SqsEventSourceLogEntry[] = [];

    // Act
    const source = startSqsEventSource({
      client,
      queueUrl: queues.sourceQueueUrl,
      handler,
      waitTimeSeconds: 1,
      retryVisibilitySeconds: 0,
      awsRegion: region,
      log: (entry) => {
        if (entry.level === 'error') errors.push(entry);
      },
    });
    await waitFor(async () => source.stats.deleted === 2);
    await source.stop();

    // Assess
    expect(log.seen.get('a')?.at(-1)).toBe('2');
    expect(log.seen.get('b')?.at(-1)).toBe('2');
    expect(errors.map((e) => e['reason'])).toContain('threw');
    expect(await depth(queues.sourceQueueUrl)).toBe(0);
    expect(await depth(queues.deadLetterQueueUrl)).toBe(0);
  });

  it('fails the whole batch when the handler outlives the timeout', async () => {
    // Prepare
    const queues = await freshQueues();
    await send(queues.sourceQueueUrl, ['slow']);
    const log = deliveryLog();
    const handler = async (event: SQSEvent): Promise<void> => {
      event.Records.forEach((r) => log.note(r));
      if (event.Records.some((r) => r.attributes.ApproximateReceiveCount === '1'))
        await new Promise((resolve) => setTimeout(resolve, 1000));
    };

    // Act
    const source = startSqsEventSource({
      client,
      queueUrl: queues.sourceQueueUrl,
      handler,
      timeoutMs: 100,
      waitTimeSeconds: 1,
      retryVisibilitySeconds: 0,
      awsRegion: region,
      log: quietLog,
    });
    await waitFor(async () => source.stats.deleted === 1);
    await source.stop();

    // Assess
    expect(log.seen.get('slow')).toEqual(['1', '2']);
    expect(source.stats.failed).toBe(1);
  });

  it('hands the handler records in the shape Lambda delivers', async () => {
    // Prepare
    const queues = await freshQueues();
    await send(queues.sourceQueueUrl, ['{"x":1}']);
    const events: SQSEvent[] = [];
    let remainingMs = -1;

    // Act
    const source = startSqsEventSource({
      client,
      queueUrl: queues.sourceQueueUrl,
      timeoutMs: 5000,
      waitTimeSeconds: 1,
      awsRegion: region,
      log: quietLog,
      handler: async (event, context) => {
        events.push(event);
        remainingMs = context.getRemainingTimeInMillis();
      },
    });
    await waitFor(async () => source.stats.deleted === 1);
    await source.stop();

    // Assess
    const record = events[0]?.Records[0];
    expect(record).toMatchObject({
      body: '{"x":1}',
      eventSource: 'aws:sqs',
      eventSourceARN: queues.sourceQueueArn,
      awsRegion: region,
      messageAttributes: {
        kind: { dataType: 'String', stringValue: 'test', stringListValues: [], binaryListValues: [] },
      },
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(record?.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record?.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
    expect(record?.attributes.SenderId).not.toBe('');
    expect(remainingMs).toBeGreaterThan(4000);
    expect(remainingMs).toBeLessThanOrEqual(5000);
  });
});

describe('startSqsEventSource: batches above 10 records', () => {
  it('gathers up to batchSize records over several receives within the batching window, and settles them all', async () => {
    // Prepare
    const queues = await freshQueues();
    await send(
      queues.sourceQueueUrl,
      Array.from({ length: 25 }, (_, i) => `big-${i}`),
    );
    const sizes: number[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      sizes.push(event.Records.length);
      // Fail one record so that the release path also crosses the 10-entry limit of SQS batch calls.
      return {
        batchItemFailures: event.Records.filter((r) => r.body === 'big-3').map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    };

    // Act
    const source = startSqsEventSource({
      client,
      queueUrl: queues.sourceQueueUrl,
      handler,
      batchSize: 25,
      batchingWindowSeconds: 1,
      waitTimeSeconds: 1,
      retryVisibilitySeconds: 30,
      log: () => undefined,
    });
    await waitFor(async () => source.stats.deleted >= 24);
    await source.stop();

    // Assess
    expect(sizes[0]).toBe(25);
    expect(source.stats.deleted).toBe(24);
    expect(source.stats.failed).toBe(1);
    expect(await depth(queues.sourceQueueUrl)).toBe(1);
  });
});

describe('startSqsEventSource: FIFO queues', () => {
  /** The lanes and intake queues of a fresh local stack; the lanes' visibility timeout is short so a failure comes back soon. */
  async function freshFifoQueues(lanesVisibilityTimeoutSeconds: number) {
    queueSerial += 1;
    return createLocalQueues({
      client,
      lanesQueueName: `lanes-${queueSerial}.fifo`,
      intakeQueueName: `intake-${queueSerial}.fifo`,
      deadLetterQueueName: `fifo-dlq-${queueSerial}`,
      lanesVisibilityTimeoutSeconds,
    });
  }

  async function sendToGroup(queueUrl: string, groupId: string, bodies: readonly string[]): Promise<void> {
    for (const body of bodies) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: groupId,
          MessageDeduplicationId: body,
        }),
      );
    }
  }

  it('creates FIFO queues without content-based deduplication or redrive, and a standard dead-letter queue', async () => {
    // Prepare
    const queues = await freshFifoQueues(7);
    const attributesOf = async (queueUrl: string) =>
      (await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes ??
      {};

    // Act
    const [lanes, intake, dlq] = await Promise.all(
      [queues.lanesQueueUrl, queues.intakeQueueUrl, queues.deadLetterQueueUrl].map(attributesOf),
    );

    // Assess
    expect(lanes).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      VisibilityTimeout: '7',
      MaximumMessageSize: '1048576',
      MessageRetentionPeriod: '345600',
    });
    expect(intake).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      VisibilityTimeout: String(DEFAULTS.intakeVisibilityTimeoutSeconds),
      MaximumMessageSize: '1048576',
    });
    expect(lanes).not.toHaveProperty('RedrivePolicy');
    expect(intake).not.toHaveProperty('RedrivePolicy');
    expect(dlq).toMatchObject({ MessageRetentionPeriod: '1209600', MaximumMessageSize: '1048576' });
    expect(dlq).not.toHaveProperty('FifoQueue');
    expect(queues.lanesQueueArn).toMatch(/:lanes-\d+\.fifo$/);
  });

  it('keeps the order within a message group across failures, with pollers side by side, leaving failed records to their visibility timeout', async () => {
    // Prepare
    const queues = await freshFifoQueues(1);
    const groups = { a: ['a1', 'a2', 'a3', 'a4', 'a5'], b: ['b1', 'b2', 'b3'], c: ['c1', 'c2'] };
    for (const [group, bodies] of Object.entries(groups)) await sendToGroup(queues.lanesQueueUrl, group, bodies);
    const done = new Map<string, string[]>();
    const seen: { body: string; at: number; receiveCount: string }[] = [];
    const batches: string[][] = [];
    let inFlight = new Set<string>();
    let overlapped = false;
    const failOnce = new Set(['a2', 'b1', 'a4']);
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const groupsOfBatch = event.Records.map((r) => r.attributes.MessageGroupId ?? '');
      batches.push(groupsOfBatch);
      if (groupsOfBatch.some((g) => inFlight.has(g))) overlapped = true;
      inFlight = new Set([...inFlight, ...groupsOfBatch]);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const failures: string[] = [];
      for (const record of event.Records) {
        seen.push({ body: record.body, at: Date.now(), receiveCount: record.attributes.ApproximateReceiveCount });
        if (failOnce.delete(record.body)) {
          failures.push(record.messageId);
          continue;
        }
        const group = record.attributes.MessageGroupId ?? '';
        done.set(group, [...(done.get(group) ?? []), record.body]);
      }
      for (const g of groupsOfBatch) inFlight.delete(g);
      return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
    };

    // Act
    const source = startSqsEventSource({
      client,
      queueUrl: queues.lanesQueueUrl,
      handler,
      concurrency: 3,
      waitTimeSeconds: 1,
      awsRegion: region,
      log: quietLog,
    });
    await waitFor(async () => (await depth(queues.lanesQueueUrl)) === 0, 15_000);
    await source.stop();

    // Assess
    expect(Object.fromEntries(done)).toEqual(groups);
    expect(overlapped).toBe(false);
    // fauxqs hands out one message per group per receive: no local batch holds two records of one group.
    for (const batch of batches) expect(new Set(batch).size).toBe(batch.length);
    // A failed record came back first in its group, after the queue's visibility timeout (nothing changed it).
    const deliveriesOf = (body: string) => seen.filter((d) => d.body === body);
    for (const body of ['a2', 'b1', 'a4']) {
      const [first, second] = deliveriesOf(body);
      expect(second?.receiveCount).toBe('2');
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900);
    }
    expect(deliveriesOf('a3').every((d) => d.at > (deliveriesOf('a2')[1]?.at ?? Infinity))).toBe(true);
    expect(source.stats).toMatchObject({ deleted: 10, failed: 3 });
  });

  it('takes batches of at most 10 from a FIFO queue with one receive each, and refuses a batching window', async () => {
    // Prepare
    const queues = await freshFifoQueues(30);
    for (let g = 0; g < 15; g += 1) await sendToGroup(queues.intakeQueueUrl, `g${g}`, [`m${g}`]);
    const sizes: number[] = [];
    const handler = async (event: SQSEvent): Promise<void> => {
      sizes.push(event.Records.length);
    };

    // Act
    const make = (options: { batchSize?: number; batchingWindowSeconds?: number }) => () =>
      startSqsEventSource({ client, queueUrl: queues.intakeQueueUrl, handler, log: quietLog, ...options });
    const source = startSqsEventSource({
      client,
      queueUrl: queues.intakeQueueUrl,
      handler,
      batchSize: 10,
      waitTimeSeconds: 1,
      awsRegion: region,
      log: quietLog,
    });
    await waitFor(async () => source.stats.deleted === 15);
    await source.stop();

    // Assess
    expect(sizes[0]).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(make({ batchSize: 11 })).toThrow(SqsEventSourceOptionsError);
    expect(make({ batchSize: 11 })).toThrow(/at most 10 for a FIFO queue/);
    expect(make({ batchingWindowSeconds: 1 })).toThrow(/must be 0 for a FIFO queue/);
  });
});
