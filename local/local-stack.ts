/**
 * The local stack, assembled in one place for `npm start`, the tests and the benchmarks: the IM emulator (or
 * another IM), a local SQS (fauxqs) with the stage's queues as serverless.yml defines them, a local DynamoDB
 * (dynalite) with the idempotency and budget tables, and the environment a function copy needs to find them.
 * Each caller adds only what is its own: serverless offline and pollers (npm start), in-process handlers with a
 * mocked Secrets Manager (tests), function copies as processes (benchmarks).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { resourceNames, type ResourceNames } from '../lib/config/resource-names.ts';
import { startEmulator, type Emulator, type EmulatorOptions } from './emulator/index.ts';
import { createLocalQueues, type LocalQueues, type LocalQueuesOptions } from './local-queues.ts';
import { startLocalTables } from './local-tables.ts';

/** Credentials for the local endpoints, which check none. */
const LOCAL_AWS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface LocalStackOptions {
  /** The stage whose resource names the queues and tables get (`local`, `test`, a benchmark's run). */
  readonly stage: string;
  /** @default 'ap-southeast-1' */
  readonly region?: string;
  /** The emulator to start; undefined with `imBaseUrl`, to use that IM instead. */
  readonly emulator?: EmulatorOptions;
  readonly imBaseUrl?: string;
  /** Ports of the local SQS and DynamoDB; 0 (the default) picks free ones. */
  readonly sqsPort?: number;
  /** The host name of the local SQS endpoint the functions are given. @default '127.0.0.1' */
  readonly sqsHost?: string;
  readonly dynamodbPort?: number;
  /** The queues' visibility timeouts, when a test shortens them. */
  readonly queues?: Pick<LocalQueuesOptions, 'lanesVisibilityTimeoutSeconds' | 'intakeVisibilityTimeoutSeconds'>;
  /**
   * Runs the local SQS and DynamoDB in processes of their own, each counting the requests it takes: on AWS they do
   * not share a CPU with the functions or IM, and a benchmark's figures should not pay for their work either.
   * @default false
   */
  readonly ownProcesses?: boolean;
}

export interface LocalStack {
  readonly names: ResourceNames;
  readonly region: string;
  /** The emulator, when one was started. */
  readonly emulator: Emulator | undefined;
  readonly imBaseUrl: string;
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly queues: LocalQueues;
  /** Where a function copy finds the local parts: queue URLs, tables, endpoints, IM. Callers add the rest. */
  readonly functionEnv: Readonly<Record<string, string>>;
  /** Requests so far by action (`AmazonSQS.ReceiveMessage`, `DynamoDB_20120810.UpdateItem`, …): `ownProcesses` only. */
  requests(service: 'sqs' | 'dynamodb'): Promise<Record<string, number>>;
  close(): Promise<void>;
}

interface Service {
  readonly endpoint: string;
  requests(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** A local AWS stand-in in a process of its own (local/service-process.ts). */
async function serviceProcess(kind: 'sqs' | 'dynamodb', names: ResourceNames): Promise<Service> {
  const child: ChildProcess = fork(new URL('./service-process.ts', import.meta.url), [kind], {
    env: { ...process.env, TABLE_NAME: names.idempotencyTable, BUDGET_TABLE_NAME: names.budgetTable },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { endpoint } = await new Promise<{ endpoint: string }>((resolve) =>
    child.once('message', (m) => resolve(m as { endpoint: string })),
  );
  return {
    endpoint,
    requests: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { requests: Record<string, number> }).requests));
        child.send('stats');
      }),
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

async function inProcess(kind: 'sqs' | 'dynamodb', names: ResourceNames, options: LocalStackOptions): Promise<Service> {
  const none = () => Promise.resolve({});
  if (kind === 'sqs') {
    const fauxqs = await startFauxqs({ port: options.sqsPort ?? 0, logger: false, defaultRegion: options.region });
    return {
      endpoint: `http://${options.sqsHost ?? '127.0.0.1'}:${fauxqs.port}`,
      requests: none,
      close: () => fauxqs.stop(),
    };
  }
  const tables = await startLocalTables({
    tableName: names.idempotencyTable,
    budgetTableName: names.budgetTable,
    port: options.dynamodbPort ?? 0,
    ...(options.region === undefined ? {} : { region: options.region }),
  });
  return { endpoint: tables.endpoint, requests: none, close: () => tables.close() };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const region = options.region ?? 'ap-southeast-1';
  const names = resourceNames(options.stage);
  const start = options.ownProcesses === true ? serviceProcess : inProcess;
  const sqsService = await start('sqs', names, { ...options, region });
  const dynamodbService = await start('dynamodb', names, { ...options, region }).catch(async (error: unknown) => {
    await sqsService.close();
    throw error;
  });
  const sqs = new SQSClient({ region, endpoint: sqsService.endpoint, credentials: LOCAL_AWS });
  const queues = await createLocalQueues({
    client: sqs,
    lanesQueueName: names.lanes,
    intakeQueueName: names.intake,
    deadLetterQueueName: names.deadLetter,
    ...options.queues,
  }).finally(() => sqs.destroy());
  const emulator = options.emulator === undefined ? undefined : await startEmulator(options.emulator);
  const imBaseUrl = emulator?.url ?? options.imBaseUrl;
  if (imBaseUrl === undefined) throw new Error('startLocalStack: give an emulator to start, or the imBaseUrl of an IM');
  const functionEnv = {
    IM_BASE_URL: imBaseUrl,
    AWS_REGION: region,
    LANES_QUEUE_URL: queues.lanesQueueUrl,
    INTAKE_QUEUE_URL: queues.intakeQueueUrl,
    DLQ_URL: queues.deadLetterQueueUrl,
    SQS_ENDPOINT: sqsService.endpoint,
    IDEMPOTENCY_TABLE: names.idempotencyTable,
    BUDGET_TABLE: names.budgetTable,
    DYNAMODB_ENDPOINT: dynamodbService.endpoint,
  };
  return {
    names,
    region,
    emulator,
    imBaseUrl,
    sqsEndpoint: sqsService.endpoint,
    dynamodbEndpoint: dynamodbService.endpoint,
    queues,
    functionEnv,
    requests: (service) => (service === 'sqs' ? sqsService : dynamodbService).requests(),
    close: async () => {
      await Promise.allSettled([emulator?.close(), sqsService.close(), dynamodbService.close()]);
    },
  };
}
