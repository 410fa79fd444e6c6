import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { chunk } from '../lib/core/rules/chunk.ts';
import { settleBatch } from './batch-outcome.ts';
import type { InvocationResult } from './batch-outcome.ts';
import { createLambdaContext } from './lambda-context.ts';
import { toSqsRecord } from './sqs-record.ts';

/** A worker handler as Lambda calls it: an SQS event in, an optional `SQSBatchResponse` out (checked at run time). */
export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

/** One line of what the event source did, for a log. */
export interface SqsEventSourceLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface SqsEventSourceOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly handler: SqsBatchHandler;
  /**
   * FIFO mode (see `startSqsEventSource`). Default: whether the queue URL ends with `.fifo`, as every FIFO
   * queue's name does.
   */
  readonly fifo?: boolean;
  /**
   * Records per invocation, 1..10,000 (1..10 in FIFO mode). Above 10 (one ReceiveMessage call) the batch is
   * gathered over several receives within `batchingWindowSeconds`, and never past Lambda's 6 MB invocation payload.
   */
  readonly batchSize?: number;
  /** How long a batch may be gathered (the event source mapping's `maximumBatchingWindow`), 0..300 s; 0 in FIFO mode. */
  readonly batchingWindowSeconds?: number;
  /** Pollers running side by side: the event source mapping's `maximumConcurrency`. */
  readonly concurrency?: number;
  /** The function timeout: an invocation still running after it fails its whole batch. */
  readonly timeoutMs?: number;
  /** Long-poll wait of each ReceiveMessage, 0..20 s. */
  readonly waitTimeSeconds?: number;
  /**
   * Visibility timeout given to failed records, in seconds. Unset leaves them alone, as Lambda does: they stay
   * invisible for the queue's visibility timeout, or for whatever the function itself set (this project's
   * worker sets the backoff of the records it fails with ChangeMessageVisibilityBatch). A value here
   * overrides the function's own backoff; a small one makes local retries quick.
   */
  readonly retryVisibilitySeconds?: number;
  readonly functionName?: string;
  readonly awsRegion?: string;
  readonly log?: (entry: SqsEventSourceLogEntry) => void;
}

/** Counts since start. */
export interface SqsEventSourceStats {
  invocations: number;
  deleted: number;
  failed: number;
  receiveErrors: number;
}

export interface SqsEventSource {
  readonly stats: Readonly<SqsEventSourceStats>;
  /** Stops polling, lets invocations in progress settle, and resolves once no long poll of it is open at the queue. */
  stop(): Promise<void>;
}

/** Thrown when the options cannot describe a working event source. */
export class SqsEventSourceOptionsError extends Error {
  override readonly name = 'SqsEventSourceOptionsError';
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, rule: string) {
    super(`${option} ${rule} (got ${String(value)})`);
    this.option = option;
    this.value = value;
  }
}

/** SQS batch calls take at most 10 entries; a batch of records may hold many more. */
const SQS_BATCH_ENTRIES = 10;
/** Lambda's limit for a synchronous invocation's payload, which bounds an event source mapping's batch. */
const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The largest SQS message, so a batch stops gathering while the next message still fits. */
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

export const sqsEventSourceDefaults = {
  batchSize: 10,
  batchingWindowSeconds: 0,
  concurrency: 1,
  timeoutMs: 60_000,
  waitTimeSeconds: 2,
  functionName: 'local-worker',
  awsRegion: 'ap-southeast-1',
  log: (entry: SqsEventSourceLogEntry): void => {
    process.stderr.write(`${JSON.stringify({ source: 'sqs-event-source', ...entry })}\n`);
  },
} as const;

function checkInteger(option: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SqsEventSourceOptionsError(option, value, `must be a whole number from ${min} to ${max}`);
  }
}

const errorSummary = (error: unknown): { errorName: string; errorMessage: string } =>
  error instanceof Error
    ? { errorName: error.name, errorMessage: error.message }
    : { errorName: 'NonError', errorMessage: String(error) };

/**
 * Polls an SQS queue and invokes a worker handler the way Lambda's SQS event source mapping does with
 * `ReportBatchItemFailures`: records the handler reports as failed (or every record, if it throws or
 * times out) stay in the queue and come back; the others are deleted. Moving a message to the
 * dead-letter queue after `maxReceiveCount` receives is the queue's own redrive policy, if it has one.
 *
 * **FIFO mode** (a queue whose URL ends with `.fifo`), as Lambda's FIFO mapping: at most 10 records a batch,
 * one ReceiveMessage, no batching window, and no receive ahead of the running batch (that would only keep
 * messages in flight, their visibility timeout running, before the function sees them). Order within a
 * message group is the queue's doing: SQS, and fauxqs, hand out no message of a group while an earlier one
 * is in flight, so pollers side by side never hold two messages of one group at once, and a failed record
 * blocks its group until its visibility timeout ends or it is deleted.
 *
 * Where it differs from Lambda's FIFO mapping: fauxqs 2.4.1 returns at most one message per message group
 * per receive, so a local batch never holds two records of one group (one lane), while Lambda's batches may
 * hold several, in order. What the handler does with a later record of a group after an earlier one failed
 * is therefore only exercised by tests that build such events themselves.
 */
export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const d = sqsEventSourceDefaults;
  const { client, queueUrl, handler, retryVisibilitySeconds } = options;
  const fifo = options.fifo ?? queueUrl.endsWith('.fifo');
  const batchSize = options.batchSize ?? d.batchSize;
  const concurrency = options.concurrency ?? d.concurrency;
  const timeoutMs = options.timeoutMs ?? d.timeoutMs;
  const waitTimeSeconds = options.waitTimeSeconds ?? d.waitTimeSeconds;
  const functionName = options.functionName ?? d.functionName;
  const awsRegion = options.awsRegion ?? d.awsRegion;
  const log = options.log ?? d.log;
  const batchingWindowSeconds = options.batchingWindowSeconds ?? d.batchingWindowSeconds;
  checkInteger('batchSize', batchSize, 1, 10_000);
  checkInteger('batchingWindowSeconds', batchingWindowSeconds, 0, 300);
  // Lambda refuses these for a FIFO queue.
  if (fifo && batchSize > 10)
    throw new SqsEventSourceOptionsError('batchSize', batchSize, 'must be at most 10 for a FIFO queue');
  if (fifo && batchingWindowSeconds !== 0) {
    throw new SqsEventSourceOptionsError(
      'batchingWindowSeconds',
      batchingWindowSeconds,
      'must be 0 for a FIFO queue (FIFO mappings have no batching window)',
    );
  }
  checkInteger('concurrency', concurrency, 1, 1000);
  checkInteger('timeoutMs', timeoutMs, 1, 900_000);
  checkInteger('waitTimeSeconds', waitTimeSeconds, 0, 20);
  if (retryVisibilitySeconds !== undefined) checkInteger('retryVisibilitySeconds', retryVisibilitySeconds, 0, 43_200);

  const stats: SqsEventSourceStats = { invocations: 0, deleted: 0, failed: 0, receiveErrors: 0 };
  const abort = new AbortController();
  let queueArn: Promise<string> | undefined;

  // Looked up once, on first use, so starting needs no round trip; a failed lookup is retried next time.
  const resolveQueueArn = (): Promise<string> => {
    queueArn ??= client
      .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
      .then((answer) => {
        const arn = answer.Attributes?.QueueArn;
        if (arn === undefined) throw new Error(`GetQueueAttributes returned no QueueArn for ${queueUrl}`);
        return arn;
      })
      .catch((error: unknown) => {
        queueArn = undefined;
        throw error;
      });
    return queueArn;
  };

  async function receiveOnce(max: number, wait: number): Promise<Message[]> {
    const answer = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: wait,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );
    return answer.Messages ?? [];
  }

  /**
   * One batch: a long poll, then, for batches above 10, more receives until the batch is full, the
   * batching window has passed, or the next message might take the invocation past 6 MB.
   */
  async function receive(): Promise<Message[]> {
    const batch = await receiveOnce(batchSize, waitTimeSeconds);
    if (batch.length === 0 || batchSize <= 10) return batch;
    const until = Date.now() + batchingWindowSeconds * 1000;
    let bytes = batch.reduce((n, m) => n + Buffer.byteLength(m.Body ?? ''), 0);
    while (
      batch.length < batchSize &&
      bytes <= MAX_INVOKE_PAYLOAD_BYTES - SQS_MAX_MESSAGE_BYTES &&
      !abort.signal.aborted
    ) {
      const more = await receiveOnce(batchSize - batch.length, 0);
      if (more.length === 0) {
        if (Date.now() >= until) break;
        await sleep(Math.min(100, until - Date.now()), undefined, { signal: abort.signal }).catch(() => undefined);
        continue;
      }
      batch.push(...more);
      bytes += more.reduce((n, m) => n + Buffer.byteLength(m.Body ?? ''), 0);
    }
    return batch;
  }

  async function invoke(event: SQSEvent): Promise<InvocationResult> {
    const context = createLambdaContext({ functionName, timeoutMs, awsRegion });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<InvocationResult>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timed-out', timeoutMs }), timeoutMs);
    });
    const ran = handler(event, context).then(
      (response): InvocationResult => ({ kind: 'returned', response }),
      (error: unknown): InvocationResult => ({ kind: 'threw', error }),
    );
    try {
      return await Promise.race([ran, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function deleteRecords(records: readonly SQSRecord[]): Promise<void> {
    for (const group of chunk(records, SQS_BATCH_ENTRIES)) {
      const answer = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: group.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      stats.deleted += answer.Successful?.length ?? 0;
      for (const failure of answer.Failed ?? []) {
        log({
          level: 'warn',
          message: 'delete failed; the message will be redelivered',
          code: failure.Code,
          detail: failure.Message,
        });
      }
    }
  }

  async function releaseRecords(records: readonly SQSRecord[]): Promise<void> {
    stats.failed += records.length;
    if (retryVisibilitySeconds === undefined) return;
    for (const group of chunk(records, SQS_BATCH_ENTRIES)) {
      await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: group.map((r, i) => ({
            Id: String(i),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: retryVisibilitySeconds,
          })),
        }),
      );
    }
  }

  async function processBatch(messages: readonly Message[]): Promise<void> {
    const source = { queueArn: await resolveQueueArn(), awsRegion };
    const records = messages.map((m) => toSqsRecord(m, source));
    stats.invocations += 1;
    const result = await invoke({ Records: records });
    const outcome = settleBatch(records, result);
    if (outcome.wholeBatchFailure !== undefined) {
      log({
        level: 'error',
        message: 'invocation failed; the whole batch will be redelivered',
        reason: outcome.wholeBatchFailure,
        records: records.length,
        ...(result.kind === 'threw' ? errorSummary(result.error) : {}),
      });
    }
    await Promise.all([deleteRecords(outcome.succeeded), releaseRecords(outcome.failed)]);
  }

  async function pollLoop(): Promise<void> {
    let ahead: Promise<Message[]> | undefined;
    while (!abort.signal.aborted) {
      try {
        const messages = await (ahead ?? receive());
        ahead = undefined;
        if (messages.length === 0) continue;
        // Lambda's event source mapping polls a standard queue ahead of the function: the next batch is
        // received while this one runs, so a busy copy goes from batch to batch without a receive round trip.
        if (!fifo) {
          ahead = receive();
          ahead.catch(() => undefined);
        }
        await processBatch(messages);
      } catch (error: unknown) {
        ahead = undefined;
        if (abort.signal.aborted) return;
        stats.receiveErrors += 1;
        log({
          level: 'error',
          message: 'receiving or settling a batch failed; retrying in 1 s',
          ...errorSummary(error),
        });
        await sleep(1000, undefined, { signal: abort.signal }).catch(() => undefined);
      }
    }
  }

  const loops = Array.from({ length: concurrency }, () => pollLoop());
  return {
    stats,
    async stop() {
      abort.abort();
      await Promise.all(loops);
      // Aborting drops only the client's side of a long poll: the queue keeps it open until its wait ends and
      // would hand the next message to it, in flight with no one to process it. Stop returns once none is open.
      await sleep(waitTimeSeconds * 1000);
    },
  };
}
