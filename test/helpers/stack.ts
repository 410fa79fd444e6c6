/**
 * The whole service wired from real parts for tests: the IM emulator over HTTP, fauxqs over the real SQS API
 * (the FIFO lanes and intake queues and the dead-letter queue, as serverless.yml defines them), dynalite over
 * the real DynamoDB API (the idempotency table), the real handlers and the local SQS event source in FIFO mode.
 * Only Secrets Manager is mocked, at the SDK boundary.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { MetadataBearer } from '@smithy/types';
import type { SQSEvent } from 'aws-lambda';
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import { loadConfig } from '../../lib/config/config.ts';
import { chunk } from '../../lib/core/rules/chunk.ts';
import { createApiHandler, createWorkerHandler } from '../../lib/service/lambda-handlers.ts';
import { apiParts, type ApiServices } from '../../lib/service/api-services.ts';
import { createCoreServices } from '../../lib/service/services.ts';
import { workerParts, type WorkerServices } from '../../lib/service/worker-services.ts';

/** Both functions' services over one core: a test copy runs either handler. */
export type Services = ApiServices & WorkerServices;
import { messagesIn } from '../../lib/queue/queue-depth.ts';
import { startLocalStack } from '../../local/local-stack.ts';
import { startSqsEventSource, type SqsEventSource, type SqsEventSourceStats } from '../../local/sqs-event-source.ts';
import { toSqsRecord } from '../../local/sqs-record.ts';
import type { Emulator, FaultOptions } from '../../local/emulator/index.ts';
import { recordForSecretScan } from '../setup/output-capture.ts';
import { ATTR_NAMES, TEST_CREDENTIALS } from './factories.ts';

const REGION = 'ap-southeast-1';
/** The local endpoints check no signature; any credentials do. */
const FAKE_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
/** serverless.yml's intake mapping: batches of 10, the most a FIFO mapping takes. */
const INTAKE_BATCH_SIZE = 10;

export interface StackOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly faults?: FaultOptions;
  readonly seed?: number;
  readonly emulatorRateLimit?: number;
  /** Worker function timeout the event sources enforce; default `workerTimeoutSeconds` of lib/config/defaults.json. */
  readonly workerTimeoutMs?: number;
  /**
   * Visibility timeout of the lanes queue (default `lanesVisibilityTimeoutSeconds`, 60 s): how long the lanes of an
   * invocation that threw or timed out stay blocked. Records the worker fails come back after its own backoff.
   */
  readonly lanesVisibilityTimeoutSeconds?: number;
  /** Visibility timeout of the intake queue (default `intakeVisibilityTimeoutSeconds`, 30 s). */
  readonly intakeVisibilityTimeoutSeconds?: number;
}

/** The worker fleet of `startWorkers`: the two event sources; `stats` sums them, `stop` stops both. */
export interface Workers extends SqsEventSource {
  readonly lanes: SqsEventSource;
  readonly intake: SqsEventSource;
}

export interface StartWorkersOptions {
  /** Pollers on the lanes queue: the lanes mapping's maximumConcurrency (default 2). The intake queue gets 1. */
  readonly concurrency?: number;
  /** Added to the stack's env for the one worker copy both event sources invoke. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Visibility given to failed records by the event source, overriding the worker's own backoff. Unset (the
   * default), as deployed: failed records come back when the worker's backoff says.
   */
  readonly retryVisibilitySeconds?: number;
}

export interface SendIntakeOptions {
  readonly groupId: string;
  /** Default: a fresh UUID. The same id again within 5 minutes is deduplicated by the queue. */
  readonly dedupId?: string;
  /** String message attributes, e.g. `{ requestId: 'req-1' }`. */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface Stack {
  readonly emulator: Emulator;
  readonly sqs: SQSClient;
  /** A client of the local DynamoDB (dynalite), to read the idempotency table. */
  readonly dynamodb: DynamoDBClient;
  readonly sqsEndpoint: string;
  readonly lanesUrl: string;
  readonly lanesArn: string;
  readonly intakeUrl: string;
  readonly intakeArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  readonly tableName: string;
  /** The budget table (the fleet's shared IM slot grid). */
  readonly budgetTableName: string;
  readonly dynamoEndpoint: string;
  /** The mocked Secrets Manager (aws-sdk-client-mock), to change the secret mid-run. */
  readonly secrets: AwsStub<object, MetadataBearer, unknown>;
  /** Builds services and handlers from the stack's env plus `env` (a fresh Lambda copy). */
  copy(
    env?: Readonly<Record<string, string>>,
    role?: 'api' | 'worker',
  ): { services: Services; api: ReturnType<typeof createApiHandler>; worker: ReturnType<typeof createWorkerHandler> };
  /**
   * Runs the worker fleet the way the two event source mappings do (FIFO mode): `concurrency` pollers on the
   * lanes queue and one on the intake queue, all invoking the worker handler of one worker copy.
   */
  startWorkers(options?: StartWorkersOptions): Workers;
  /** Waits until the lanes and intake queues hold no message, visible, in flight or delayed. */
  drained(timeoutMs?: number): Promise<void>;
  /** Waits until the intake queue holds no message: every producer message sent so far has been moved into lanes. */
  intakeMoved(timeoutMs?: number): Promise<void>;
  /** Sends a raw body to the intake queue, as another producer would; resolves to its message id. */
  sendIntake(body: string, options: SendIntakeOptions): Promise<string>;
  /** Receives up to 10 messages of a queue (one per message group, for a FIFO queue) as the SQS event Lambda would deliver. */
  receiveEvent(queueUrl: string): Promise<SQSEvent>;
  /** Receives and deletes every visible message of a queue. */
  takeAll(queueUrl: string): Promise<Message[]>;
  /**
   * Between tests: no faults; the lanes, intake and dead-letter queues purged (in flight included); every item of
   * the idempotency table deleted. As in SQS, a purge does not forget deduplication ids: a message sent again
   * with a deduplication id used in the last 5 minutes is still dropped.
   */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Deletes every item of a table whose only key is `id`. */
async function emptyTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#id',
        ExpressionAttributeNames: { '#id': 'id' },
        ExclusiveStartKey: start,
      }),
    );
    for (const keys of chunk(page.Items ?? [], 25)) {
      let requests: BatchWriteItemCommand['input']['RequestItems'] = {
        [tableName]: keys.map((Key) => ({ DeleteRequest: { Key } })),
      };
      while (requests !== undefined && Object.keys(requests).length > 0) {
        ({ UnprocessedItems: requests } = await client.send(new BatchWriteItemCommand({ RequestItems: requests })));
      }
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

/** Sums the counts of several event sources, read when asked. */
function summedStats(sources: readonly SqsEventSource[]): Readonly<SqsEventSourceStats> {
  const sum = (key: keyof SqsEventSourceStats): number => sources.reduce((n, s) => n + s.stats[key], 0);
  return {
    get invocations() {
      return sum('invocations');
    },
    get deleted() {
      return sum('deleted');
    },
    get failed() {
      return sum('failed');
    },
    get receiveErrors() {
      return sum('receiveErrors');
    },
  };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // The services' own DynamoDB client reads credentials the SDK's usual way; dynalite checks none.
  process.env['AWS_ACCESS_KEY_ID'] ??= FAKE_CREDENTIALS.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] ??= FAKE_CREDENTIALS.secretAccessKey;

  const local = await startLocalStack({
    stage: 'test',
    region: REGION,
    emulator: {
      sdkAppId: TEST_CREDENTIALS.sdkAppId,
      adminIdentifier: TEST_CREDENTIALS.identifier,
      secretKey: TEST_CREDENTIALS.secretKey,
      attrNames: ATTR_NAMES,
      rateLimitPerSecond: options.emulatorRateLimit ?? 100,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    },
    queues: {
      ...(options.lanesVisibilityTimeoutSeconds === undefined
        ? {}
        : { lanesVisibilityTimeoutSeconds: options.lanesVisibilityTimeoutSeconds }),
      ...(options.intakeVisibilityTimeoutSeconds === undefined
        ? {}
        : { intakeVisibilityTimeoutSeconds: options.intakeVisibilityTimeoutSeconds }),
    },
  });
  const emulator = local.emulator as Emulator;
  const { queues, names } = local;
  const sqs = new SQSClient({ region: REGION, endpoint: local.sqsEndpoint, credentials: FAKE_CREDENTIALS });
  const tables = { tableName: names.idempotencyTable, endpoint: local.dynamodbEndpoint };
  const dynamodb = new DynamoDBClient({ region: REGION, endpoint: tables.endpoint, credentials: FAKE_CREDENTIALS });
  const secretsClient = new SecretsManagerClient({ region: REGION });
  const secrets = mockClient(secretsClient);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(TEST_CREDENTIALS) });
  const baseEnv: Record<string, string> = {
    SECRET_ID: 'tim-attr-gateway/test',
    ...local.functionEnv,
    LOG_LEVEL: 'INFO',
    // Tests post several webhooks to one API copy; 5 calls/s per copy keeps them quick.
    API_RATE_SHARE: '10',
    API_MAX_CONCURRENCY: '2',
    ...options.env,
  };
  const sources: SqsEventSource[] = [];
  const arns = new Map([
    [queues.lanesQueueUrl, queues.lanesQueueArn],
    [queues.intakeQueueUrl, queues.intakeQueueArn],
    [queues.deadLetterQueueUrl, queues.deadLetterQueueArn],
  ]);

  const copy: Stack['copy'] = (env = {}, role = 'api') => {
    const config = loadConfig({ ...baseEnv, FUNCTION_ROLE: role, ...env });
    // One copy of each function sharing the core, as a test drives both through one copy.
    const core = createCoreServices(config, { secretsManager: secretsClient, sqs });
    const services: Services = {
      ...core,
      ...apiParts(config, core, { secretsManager: secretsClient }),
      ...workerParts(core),
    };
    const api = createApiHandler(services);
    const worker = createWorkerHandler(services);
    // Every answer goes into the suite-wide secret scan, not only what is logged.
    const recordedApi = (async (event, context) => {
      const result = await api(event, context);
      recordForSecretScan(JSON.stringify(result));
      return result;
    }) as typeof api;
    const recordedWorker = (async (event, context) => {
      const result = await worker(event, context);
      recordForSecretScan(JSON.stringify(result));
      return result;
    }) as typeof worker;
    return { services, api: recordedApi, worker: recordedWorker };
  };

  const messageCount = (queueUrl: string): Promise<number> => messagesIn(sqs, queueUrl);

  const takeAll: Stack['takeAll'] = async (queueUrl) => {
    const all: Message[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) return all;
      all.push(...Messages);
      // Deleting unlocks each FIFO message group, so the next receive gets the groups' next messages.
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
  };

  const queueUrls = [queues.lanesQueueUrl, queues.intakeQueueUrl, queues.deadLetterQueueUrl];
  const purgeAll = async (): Promise<void> => {
    // fauxqs purges at once, messages in flight included (SQS allows one purge a minute; fauxqs does not care).
    await Promise.all(queueUrls.map((QueueUrl) => sqs.send(new PurgeQueueCommand({ QueueUrl }))));
  };

  return {
    emulator,
    sqs,
    dynamodb,
    sqsEndpoint: local.sqsEndpoint,
    lanesUrl: queues.lanesQueueUrl,
    lanesArn: queues.lanesQueueArn,
    intakeUrl: queues.intakeQueueUrl,
    intakeArn: queues.intakeQueueArn,
    dlqUrl: queues.deadLetterQueueUrl,
    dlqArn: queues.deadLetterQueueArn,
    tableName: tables.tableName,
    budgetTableName: names.budgetTable,
    dynamoEndpoint: tables.endpoint,
    secrets,
    copy,
    startWorkers: (o = {}) => {
      const { worker } = copy(o.env, 'worker');
      const common = {
        client: sqs,
        handler: worker,
        timeoutMs: options.workerTimeoutMs ?? DEFAULTS.workerTimeoutSeconds * 1000,
        waitTimeSeconds: 1,
        functionName: 'tim-attr-gateway-test-worker',
        awsRegion: REGION,
        ...(o.retryVisibilitySeconds === undefined ? {} : { retryVisibilitySeconds: o.retryVisibilitySeconds }),
      };
      const lanes = startSqsEventSource({
        ...common,
        queueUrl: queues.lanesQueueUrl,
        batchSize: DEFAULTS.workerBatchSize,
        concurrency: o.concurrency ?? 2,
      });
      const intake = startSqsEventSource({
        ...common,
        queueUrl: queues.intakeQueueUrl,
        batchSize: INTAKE_BATCH_SIZE,
        concurrency: 1,
      });
      sources.push(lanes, intake);
      return {
        lanes,
        intake,
        stats: summedStats([lanes, intake]),
        stop: async () => {
          await Promise.all([lanes.stop(), intake.stop()]);
        },
      };
    },
    intakeMoved: async (timeoutMs = 60_000) => {
      const until = Date.now() + timeoutMs;
      while ((await messageCount(queues.intakeQueueUrl)) > 0) {
        if (Date.now() > until) throw new Error(`the intake queue was not moved into lanes within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    drained: async (timeoutMs = 60_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const [lanes, intake] = await Promise.all([
          messageCount(queues.lanesQueueUrl),
          messageCount(queues.intakeQueueUrl),
        ]);
        if (lanes === 0 && intake === 0) return;
        if (Date.now() > until)
          throw new Error(
            `the queues did not drain within ${timeoutMs} ms: ${lanes} lane and ${intake} intake messages left`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    sendIntake: async (body, { groupId, dedupId = randomUUID(), attributes = {} }) => {
      const { MessageId } = await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.intakeQueueUrl,
          MessageBody: body,
          MessageGroupId: groupId,
          MessageDeduplicationId: dedupId,
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
          ),
        }),
      );
      if (MessageId === undefined) throw new Error('SendMessage returned no MessageId');
      return MessageId;
    },
    receiveEvent: async (queueUrl) => {
      let arn = arns.get(queueUrl);
      if (arn === undefined) {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
        );
        arn = Attributes?.QueueArn ?? '';
      }
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const source = { queueArn: arn, awsRegion: REGION };
      return { Records: Messages.map((m) => toSqsRecord(m, source)) };
    },
    takeAll,
    reset: async () => {
      emulator.setFaults({});
      await purgeAll();
      await emptyTable(dynamodb, tables.tableName);
    },
    close: async () => {
      await Promise.all(sources.map((s) => s.stop()));
      await purgeAll().catch(() => undefined);
      secrets.restore();
      sqs.destroy();
      dynamodb.destroy();
      await local.close();
    },
  };
}
