/**
 * The gateway as a fleet of processes on this machine, for the burst and fleet benchmarks: this process runs
 * the IM emulator (IM's real 100 calls/s limit, counted at arrival); fauxqs (the lanes, intake and dead-letter
 * queues) and dynalite (the idempotency and budget tables) run in a process each; every API copy and every
 * worker copy is a process of its own, as each Lambda copy is its own sandbox.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import type { Emulator, FaultOptions } from '../../local/emulator/index.ts';
import type { LocalQueues } from '../../local/local-queues.ts';
import { startLocalStack } from '../../local/local-stack.ts';
import { TEST_CREDENTIALS } from '../../test/helpers/factories.ts';

const REGION = 'ap-southeast-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A burst an API copy prepares (bodies signed and built before the clock starts), then sends on `go`. */
export interface ApiBurst {
  readonly webhooks: number;
  readonly usersEach: number;
  readonly prefix: string;
  /** Tag adds to `POST /v1/user-tags` instead of attributes. @default false */
  readonly tags?: boolean;
}

/** What an API copy reports after its burst; times are epoch ms (performance.timeOrigin + now). */
export interface ApiBurstResult {
  readonly applied: number;
  readonly queued: number;
  readonly failed: number;
  readonly answeredAt: readonly number[];
}

export interface ApiCopy {
  /** Builds the burst's bodies; resolves when the copy is ready to send. */
  prepare(burst: ApiBurst): Promise<void>;
  /** Sends the prepared burst; resolves with the answers. */
  go(): Promise<ApiBurstResult>;
}

export interface LocalFleetOptions {
  /** Names the queues and tables, so fleets of one run do not share state. */
  readonly name: string;
  readonly faults?: FaultOptions;
  /** Added to every copy's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** The emulator's im_set_attr limit, calls/s. Default 100, IM's own. */
  readonly imRateLimit?: number;
}

export interface LocalFleet {
  readonly emulator: Emulator;
  readonly sqs: SQSClient;
  readonly queues: LocalQueues;
  /** The environment every copy gets. */
  readonly env: NodeJS.ProcessEnv;
  /** Forks an API copy; it is ready when this resolves. */
  apiCopy(env?: Readonly<Record<string, string>>): Promise<ApiCopy>;
  /** DynamoDB requests so far, by operation (`DynamoDB_20120810.UpdateItem`, …). */
  dynamodbRequests(): Promise<Record<string, number>>;
  /** SQS requests so far, by action (`AmazonSQS.ReceiveMessage`, …). */
  sqsRequests(): Promise<Record<string, number>>;
  /** Forks a copy of the API function for the stream benchmark (bench/fleet/api-stream-copy.ts); ready when this resolves. */
  apiStreamCopy(env?: Readonly<Record<string, string>>): Promise<ChildProcess>;
  /** Starts a worker copy: one lanes poller process, one invocation at a time. */
  workerCopy(env?: Readonly<Record<string, string>>): void;
  close(): Promise<void>;
}

/** Epoch ms with sub-ms precision, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export async function startLocalFleet(options: LocalFleetOptions): Promise<LocalFleet> {
  const stack = await startLocalStack({
    stage: options.name,
    region: REGION,
    ownProcesses: true,
    emulator: {
      sdkAppId: TEST_CREDENTIALS.sdkAppId,
      adminIdentifier: TEST_CREDENTIALS.identifier,
      secretKey: TEST_CREDENTIALS.secretKey,
      attrNames: ['sex', 'city', 'tier', 'lang'],
      rateLimitPerSecond: options.imRateLimit ?? 100,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
    },
  });
  const emulator = stack.emulator as Emulator;
  const { queues } = stack;
  const children: ChildProcess[] = [];
  const sqs = new SQSClient({
    region: REGION,
    endpoint: stack.sqsEndpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stack.functionEnv,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    TIM_SDKAPPID: String(TEST_CREDENTIALS.sdkAppId),
    TIM_IDENTIFIER: TEST_CREDENTIALS.identifier,
    TIM_SECRET_KEY: TEST_CREDENTIALS.secretKey,
    WEBHOOK_SECRET: TEST_CREDENTIALS.webhookSecret,
    ATTR_NAMES: 'sex,city,tier,lang',
    IM_RATE_LIMIT: String(DEFAULTS.imRateLimit),
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    WORKER_BATCH_SIZE: String(DEFAULTS.workerBatchSize),
    ...options.env,
  };
  return {
    emulator,
    sqs,
    queues,
    env,
    async apiCopy(extra = {}) {
      const child = fork(new URL('../fleet/api-copy.ts', import.meta.url), {
        env: { ...env, ...extra },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      const next = <T>(): Promise<T> => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
      await next<{ ready: true }>();
      return {
        async prepare(burst) {
          const prepared = next<{ prepared: true }>();
          child.send({ kind: 'prepare', ...burst });
          await prepared;
        },
        go() {
          const done = next<ApiBurstResult>();
          child.send({ kind: 'go' });
          return done;
        },
      };
    },
    dynamodbRequests: () => stack.requests('dynamodb'),
    sqsRequests: () => stack.requests('sqs'),
    async apiStreamCopy(extra = {}) {
      const child = fork(new URL('../fleet/api-stream-copy.ts', import.meta.url), {
        env: { ...env, ...extra },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      await new Promise((resolve) => child.once('message', resolve));
      return child;
    },
    workerCopy(extra = {}) {
      const poller = fileURLToPath(new URL('../../local/sqs-poller.ts', import.meta.url));
      children.push(
        spawn(process.execPath, [poller], { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'inherit'] }),
      );
    },
    async close() {
      // Copies first, then the services they talk to.
      for (const child of children) child.kill('SIGTERM');
      await sleep(500);
      sqs.destroy();
      await stack.close();
    },
  };
}
