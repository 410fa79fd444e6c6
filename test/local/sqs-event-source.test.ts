import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { startFauxqs } from 'fauxqs';
import type { FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalQueues } from '../../scripts/local/local-queues.ts';
import type { LocalQueues } from '../../scripts/local/local-queues.ts';
import { startSqsEventSource } from '../../scripts/local/sqs-event-source.ts';
import type { SqsEventSourceLogEntry } from '../../scripts/local/sqs-event-source.ts';

const region = 'ap-southeast-1';
let server: FauxqsServer;
let client: SQSClient;
let queueSerial = 0;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false, defaultRegion: region });
  client = new SQSClient({ endpoint: server.address, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});

afterAll(async () => {
  client.destroy();
  await server.stop();
});

/** A fresh queue pair per test; maxReceiveCount 2 keeps the redrive path short. */
async function freshQueues(): Promise<LocalQueues> {
  queueSerial += 1;
  return createLocalQueues({
    client,
    overflowQueueName: `source-${queueSerial}`,
    deadLetterQueueName: `dlq-${queueSerial}`,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 2,
  });
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
async function depth(queueUrl: string): Promise<number> {
  const answer = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = answer.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function drainBodies(queueUrl: string): Promise<string[]> {
  const answer = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
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
    await send(queues.overflowQueueUrl, ['ok-1', 'ok-2', 'fail-1', 'fail-2']);
    const log = deliveryLog();
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      event.Records.forEach((r) => log.note(r));
      return { batchItemFailures: event.Records.filter((r) => r.body.startsWith('fail')).map((r) => ({ itemIdentifier: r.messageId })) };
    };

    // Act
    const source = startSqsEventSource({
      client, queueUrl: queues.overflowQueueUrl, handler, waitTimeSeconds: 1, concurrency: 2, retryVisibilitySeconds: 0, awsRegion: region, log: quietLog,
    });
    await waitFor(async () => (await depth(queues.deadLetterQueueUrl)) === 2 && (await depth(queues.overflowQueueUrl)) === 0);
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
    await send(queues.overflowQueueUrl, ['a', 'b']);
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
      client, queueUrl: queues.overflowQueueUrl, handler, waitTimeSeconds: 1, retryVisibilitySeconds: 0, awsRegion: region,
      log: (entry) => { if (entry.level === 'error') errors.push(entry); },
    });
    await waitFor(async () => source.stats.deleted === 2);
    await source.stop();

    // Assess
    expect(log.seen.get('a')?.at(-1)).toBe('2');
    expect(log.seen.get('b')?.at(-1)).toBe('2');
    expect(errors.map((e) => e['reason'])).toContain('threw');
    expect(await depth(queues.overflowQueueUrl)).toBe(0);
    expect(await depth(queues.deadLetterQueueUrl)).toBe(0);
  });

  it('fails the whole batch when the handler outlives the timeout', async () => {
    // Prepare
    const queues = await freshQueues();
    await send(queues.overflowQueueUrl, ['slow']);
    const log = deliveryLog();
    const handler = async (event: SQSEvent): Promise<void> => {
      event.Records.forEach((r) => log.note(r));
      if (event.Records.some((r) => r.attributes.ApproximateReceiveCount === '1')) await new Promise((resolve) => setTimeout(resolve, 1000));
    };

    // Act
    const source = startSqsEventSource({
      client, queueUrl: queues.overflowQueueUrl, handler, timeoutMs: 100, waitTimeSeconds: 1, retryVisibilitySeconds: 0, awsRegion: region, log: quietLog,
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
    await send(queues.overflowQueueUrl, ['{"x":1}']);
    const events: SQSEvent[] = [];
    let remainingMs = -1;

    // Act
    const source = startSqsEventSource({
      client, queueUrl: queues.overflowQueueUrl, timeoutMs: 5000, waitTimeSeconds: 1, awsRegion: region, log: quietLog,
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
      eventSourceARN: queues.overflowQueueArn,
      awsRegion: region,
      messageAttributes: { kind: { dataType: 'String', stringValue: 'test', stringListValues: [], binaryListValues: [] } },
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
    await send(queues.overflowQueueUrl, Array.from({ length: 25 }, (_, i) => `big-${i}`));
    const sizes: number[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      sizes.push(event.Records.length);
      // Fail one record so that the release path also crosses the 10-entry limit of SQS batch calls.
      return { batchItemFailures: event.Records.filter((r) => r.body === 'big-3').map((r) => ({ itemIdentifier: r.messageId })) };
    };

    // Act
    const source = startSqsEventSource({ client, queueUrl: queues.overflowQueueUrl, handler, batchSize: 25, batchingWindowSeconds: 1, waitTimeSeconds: 1, retryVisibilitySeconds: 30, log: () => undefined });
    await waitFor(async () => source.stats.deleted >= 24);
    await source.stop();

    // Assess
    expect(sizes[0]).toBe(25);
    expect(source.stats.deleted).toBe(24);
    expect(source.stats.failed).toBe(1);
    expect(await depth(queues.overflowQueueUrl)).toBe(1);
  });
});
