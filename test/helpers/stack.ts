/**
 * The whole service wired from real parts for tests: the IM emulator over HTTP, fauxqs over the real SQS
 * API, the real handlers and the local SQS event source. Only Secrets Manager is mocked, at the SDK boundary.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PurgeQueueCommand, ReceiveMessageCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { startFauxqs } from 'fauxqs';
import type { MetadataBearer } from '@smithy/types';
import type { SQSEvent } from 'aws-lambda';
import { toSqsAttributes } from '../../lib/queue/message-format.ts';
import { toSqsRecord } from '../../scripts/local/sqs-record.ts';
import { loadConfig } from '../../lib/config/config.ts';
import { createApiHandler, createWorkerHandler } from '../../lib/service/lambda-handlers.ts';
import { createServices, type Services } from '../../lib/service/services.ts';
import { createLocalQueues } from '../../scripts/local/local-queues.ts';
import { startSqsEventSource, type SqsEventSource } from '../../scripts/local/sqs-event-source.ts';
import { startEmulator, type Emulator, type FaultOptions } from '../emulator/index.ts';
import { recordForSecretScan } from '../setup/output-capture.ts';
import { ATTR_NAMES, TEST_CREDENTIALS } from './factories.ts';

export interface StackOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly faults?: FaultOptions;
  readonly seed?: number;
  readonly emulatorRateLimit?: number;
  readonly maxReceiveCount?: number;
  /** Worker function timeout the event source enforces. */
  readonly workerTimeoutMs?: number;
}

type FauxqsServer = Awaited<ReturnType<typeof startFauxqs>>;

export interface Stack {
  readonly emulator: Emulator;
  readonly sqs: SQSClient;
  readonly overflowUrl: string;
  readonly dlqUrl: string;
  /** The mocked Secrets Manager (aws-sdk-client-mock), to change the secret mid-run. */
  readonly secrets: AwsStub<object, MetadataBearer, unknown>;
  /** Builds services and handlers from the stack's env plus `env` (a fresh Lambda copy). */
  copy(env?: Readonly<Record<string, string>>, role?: 'api' | 'worker'): { services: Services; api: ReturnType<typeof createApiHandler>; worker: ReturnType<typeof createWorkerHandler> };
  /** Runs the worker fleet on the overflow queue the way Lambda's event source mapping does. */
  startWorkers(options?: { concurrency?: number; retryVisibilitySeconds?: number; env?: Readonly<Record<string, string>> }): SqsEventSource;
  /** Waits until the overflow queue holds no message, visible or in flight. */
  drained(timeoutMs?: number): Promise<void>;
  /** Sends a raw message body to the overflow queue, as another producer would. */
  send(body: string, attributes?: Record<string, string>): Promise<void>;
  /** Receives up to 10 messages of the overflow queue as the SQS event Lambda would deliver. */
  receiveEvent(): Promise<SQSEvent>;
  /** Receives and deletes everything in a queue. */
  takeAll(queueUrl: string): Promise<Message[]>;
  /** Between tests: no faults, both queues empty. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const emulator = await startEmulator({
    sdkAppId: TEST_CREDENTIALS.sdkAppId,
    adminIdentifier: TEST_CREDENTIALS.identifier,
    secretKey: TEST_CREDENTIALS.secretKey,
    attrNames: ATTR_NAMES,
    rateLimitPerSecond: options.emulatorRateLimit ?? 100,
    ...(options.faults === undefined ? {} : { faults: options.faults }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  const fauxqs: FauxqsServer = await startFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${fauxqs.port}`;
  const sqs = new SQSClient({ region: 'ap-southeast-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const suffix = Math.random().toString(36).slice(2, 8);
  const queues = await createLocalQueues({
    client: sqs,
    overflowQueueName: `overflow-${suffix}`,
    deadLetterQueueName: `dlq-${suffix}`,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: options.maxReceiveCount ?? 5,
  });
  const secretsClient = new SecretsManagerClient({ region: 'ap-southeast-1' });
  const secrets = mockClient(secretsClient);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(TEST_CREDENTIALS) });
  const baseEnv: Record<string, string> = {
    SECRET_ID: 'tim-attr-gateway/test',
    IM_BASE_URL: emulator.url,
    OVERFLOW_QUEUE_URL: queues.overflowQueueUrl,
    DLQ_URL: queues.deadLetterQueueUrl,
    SQS_ENDPOINT: endpoint,
    LOG_LEVEL: 'INFO',
    // Tests post several webhooks to one API copy; 5 calls/s per copy keeps them quick.
    API_RATE_SHARE: '10',
    API_MAX_CONCURRENCY: '2',
    ...options.env,
  };
  const sources: SqsEventSource[] = [];

  const copy: Stack['copy'] = (env = {}, role = 'api') => {
    const config = loadConfig({ ...baseEnv, FUNCTION_ROLE: role, ...env });
    const services = createServices(config, { secretsManager: secretsClient, sqs });
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

  const messageCount = async (queueUrl: string): Promise<number> => {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  };

  return {
    emulator,
    sqs,
    overflowUrl: queues.overflowQueueUrl,
    dlqUrl: queues.deadLetterQueueUrl,
    secrets,
    copy,
    startWorkers: (o = {}) => {
      const { worker } = copy(o.env, 'worker');
      const source = startSqsEventSource({
        client: sqs,
        queueUrl: queues.overflowQueueUrl,
        handler: worker,
        batchSize: 10,
        concurrency: o.concurrency ?? 2,
        timeoutMs: options.workerTimeoutMs ?? 60_000,
        waitTimeSeconds: 1,
        retryVisibilitySeconds: o.retryVisibilitySeconds ?? 0,
        functionName: 'tim-attr-gateway-test-worker',
      });
      sources.push(source);
      return source;
    },
    drained: async (timeoutMs = 60_000) => {
      const until = Date.now() + timeoutMs;
      while ((await messageCount(queues.overflowQueueUrl)) > 0) {
        if (Date.now() > until) throw new Error(`the overflow queue did not drain within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    send: async (body, attributes = {}) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.overflowQueueUrl, MessageBody: body, MessageAttributes: toSqsAttributes(attributes) }));
    },
    receiveEvent: async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.overflowQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
      return { Records: Messages.map((m) => toSqsRecord(m, { queueArn: queues.overflowQueueArn, awsRegion: 'ap-southeast-1' })) };
    },
    takeAll: async (queueUrl) => {
      const all: Message[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
        if (Messages.length === 0) return all;
        all.push(...Messages);
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
      }
    },
    reset: async function (this: Stack) {
      emulator.setFaults({});
      await this.takeAll(queues.overflowQueueUrl);
      await this.takeAll(queues.deadLetterQueueUrl);
    },
    close: async () => {
      await Promise.all(sources.map((s) => s.stop()));
      await sqs.send(new PurgeQueueCommand({ QueueUrl: queues.overflowQueueUrl })).catch(() => undefined);
      secrets.restore();
      sqs.destroy();
      await emulator.close();
      await fauxqs.stop();
    },
  };
}
