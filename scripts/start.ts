/**
 * `npm start`: the whole service on this machine, with development defaults.
 *
 * - fauxqs (local SQS) with the FIFO lanes and intake queues and the dead-letter queue, as serverless.yml defines them;
 * - dynalite (local DynamoDB) with the idempotency table;
 * - the IM emulator (unless IM_BASE_URL points elsewhere), accepting the local credentials;
 * - `serverless offline` at stage `local`: the real API Gateway HTTP API event into handlers/api.ts;
 * - one local SQS poller process per worker copy on the lanes queue and one on the intake queue, each invoking
 *   handlers/worker.ts like the event source mappings.
 *
 * Everything stops on SIGINT/SIGTERM, or when one of the child processes dies.
 * Settings: see lib/config/local-settings.ts and lib/config/local-credentials.ts.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { localCredentials, printableCredential } from '../lib/config/local-credentials.ts';
import { busyPorts, describeBusyPorts } from '../local/busy-ports.ts';
import { localFunctionEnv } from '../local/function-env.ts';
import { startLocalStack } from '../local/local-stack.ts';
import { readLocalSettings } from '../lib/config/local-settings.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const settings = readLocalSettings(process.env);
const credentials = localCredentials(process.env);
const attrNames = ['sex', 'city', 'tier', 'lang'];
/** serverless.yml's intake mapping takes batches of 10, the most a FIFO mapping takes. */
const INTAKE_BATCH_SIZE = 10;

/** Resolves once something accepts TCP connections on the port, or rejects after `timeoutMs`. */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

// --- ports: refuse early, by name, rather than fail half-started --------------------------------------
const busy = await busyPorts([
  { setting: 'PORT', port: settings.port },
  { setting: 'LAMBDA_PORT', port: settings.lambdaPort },
  { setting: 'SQS_PORT', port: settings.sqsPort },
  { setting: 'DYNAMODB_PORT', port: settings.dynamodbPort },
  ...(settings.imBaseUrl === undefined ? [{ setting: 'EMULATOR_PORT', port: settings.emulatorPort }] : []),
]);
if (busy.length > 0) {
  console.error(describeBusyPorts(busy));
  process.exit(2);
}

// --- the local stack: SQS, DynamoDB and IM (local/local-stack.ts) ------------------------------------
const stack = await startLocalStack({
  stage: settings.stage,
  region: settings.awsRegion,
  sqsPort: settings.sqsPort,
  sqsHost: 'localhost',
  dynamodbPort: settings.dynamodbPort,
  ...(settings.imBaseUrl === undefined
    ? {
        emulator: {
          sdkAppId: Number(credentials.TIM_SDKAPPID),
          adminIdentifier: credentials.TIM_IDENTIFIER,
          secretKey: credentials.TIM_SECRET_KEY,
          attrNames,
          port: settings.emulatorPort,
          // IM's own limit, lowered with IM_RATE_LIMIT as the functions' budget is, to watch saturation locally.
          ...(process.env['IM_RATE_LIMIT'] === undefined
            ? {}
            : { rateLimitPerSecond: Number(process.env['IM_RATE_LIMIT']) }),
        },
      }
    : { imBaseUrl: settings.imBaseUrl }),
});
const { queues, imBaseUrl, sqsEndpoint } = stack;
const tables = { endpoint: stack.dynamodbEndpoint, tableName: stack.names.idempotencyTable };
const closeStack = async (): Promise<void> => {
  const { emulator } = stack;
  if (emulator !== undefined)
    console.log(
      `IM emulator: ${emulator.counters.calls} calls, ${emulator.counters.usersApplied} users applied, ${emulator.attrs.size} users stored`,
    );
  await stack.close();
};

// --- the functions -------------------------------------------------------------------------------
const { env: functionEnv, ignored } = localFunctionEnv(process.env, settings, {
  imBaseUrl,
  sqsEndpoint,
  queues,
  tables: { tableName: tables.tableName, endpoint: tables.endpoint },
  credentials,
});
if (ignored.length > 0)
  console.warn(`${ignored.join(' / ')} ${ignored.length > 1 ? 'are' : 'is'} ignored by a local run.`);

const children = new Set<ChildProcess>();
let stopping = false;

function launch(label: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      console.error(`${label} exited (${signal ?? code}); stopping everything`);
      void shutdown(1);
    }
  });
  return child;
}

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exits = [...children].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  await Promise.race([Promise.all(exits), sleep(5000)]);
  for (const child of children) child.kill('SIGKILL');
  await closeStack();
  process.exit(exitCode);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

// --useInProcess: the API's handler is loaded once and serves concurrent requests side by side, as a fleet of warm
// Lambda copies would; otherwise serverless-offline starts a worker thread (a cold start) per concurrent request,
// and a stream of 100 webhooks/s on 2 cores ends in 10 s answers and reset connections.
launch(
  'serverless offline',
  [
    join(root, 'node_modules/serverless/bin/serverless.js'),
    'offline',
    'start',
    '--stage',
    settings.stage,
    '--region',
    settings.awsRegion,
    '--localEnvironment',
    '--useInProcess',
  ],
  functionEnv,
);
const pollerEnv = (queueUrl: string, batchSize: number): NodeJS.ProcessEnv => ({
  ...functionEnv,
  FUNCTION_ROLE: 'worker',
  QUEUE_URL: queueUrl,
  POLLER_CONCURRENCY: '1',
  WORKER_BATCH_SIZE: String(batchSize),
  WORKER_TIMEOUT_SECONDS: String(settings.workerTimeoutSeconds),
  LOCAL_RETRY_VISIBILITY_SECONDS:
    settings.retryVisibilitySeconds === undefined ? '' : String(settings.retryVisibilitySeconds),
});
// The lanes mapping runs up to maximumConcurrency copies; the intake mapping's copies only move messages into
// lanes, and one is plenty locally. Each FIFO batch is at most 10 records.
for (let copy = 1; copy <= settings.workerProcesses; copy += 1) {
  launch(
    `lanes poller ${copy}`,
    [join(root, 'local/sqs-poller.ts')],
    pollerEnv(queues.lanesQueueUrl, settings.workerBatchSize),
  );
}
launch('intake poller', [join(root, 'local/sqs-poller.ts')], pollerEnv(queues.intakeQueueUrl, INTAKE_BATCH_SIZE));

try {
  await waitForPort(settings.port, 60_000);
} catch (error: unknown) {
  console.error(error instanceof Error ? error.message : error);
  await shutdown(1);
}

// Built-in defaults are public development values, printed so the local run is usable; values taken
// from the environment are not shown.
const shown = (name: keyof typeof credentials): string => `${name}=${printableCredential(name, credentials[name])}`;
const retries =
  settings.retryVisibilitySeconds === undefined
    ? "failed records come back after the worker's own backoff (1 s, 2 s, 4 s …)"
    : `failed records come back after ${settings.retryVisibilitySeconds} s (LOCAL_RETRY_VISIBILITY_SECONDS)`;
const exampleBody = JSON.stringify({ UserAttrs: [{ To_Account: 'user_0001', Attrs: { city: 'Paris', tier: null } }] });
console.log(`
tim-attr-gateway is running locally (stage ${settings.stage}, region ${settings.awsRegion})

  API             POST http://localhost:${settings.port}/v1/user-attrs
  IM              ${settings.imBaseUrl === undefined ? `${imBaseUrl} (emulator; attributes ${attrNames.join(', ')})` : `${imBaseUrl} (IM_BASE_URL)`}
  SQS endpoint    ${sqsEndpoint}
  lanes queue     ${queues.lanesQueueUrl}
  intake queue    ${queues.intakeQueueUrl}
  dead letters    ${queues.deadLetterQueueUrl}
  DynamoDB        ${tables.endpoint}, idempotency table ${tables.tableName}
  worker copies   ${settings.workerProcesses} poller processes on the lanes (batches of ≤ ${settings.workerBatchSize}), 1 on the intake queue;
                  ${retries}

  local credentials (development defaults; set the same names in the environment to override)
    ${shown('TIM_SDKAPPID')}
    ${shown('TIM_IDENTIFIER')}
    ${shown('TIM_SECRET_KEY')}
    ${shown('WEBHOOK_SECRET')}

  try it (another terminal):
    npm run send -- examples/users.json
  sends the file as the body, signed per Standard Webhooks (webhook-id, webhook-timestamp,
  webhook-signature headers, HMAC-SHA256 with WEBHOOK_SECRET), and prints the answer.
    npm run send -- examples/users.json --webhook-id msg_demo_1
  run it twice: the second delivery of the same webhook-id gets the stored answer, applied once.

  send to the intake queue, as another producer would (a group of your choice; a deduplication id unique per
  message: the same id again within 5 minutes adds nothing):
    npm run send -- examples/users.json --intake
    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws sqs send-message --endpoint-url ${sqsEndpoint} --region ${settings.awsRegion} \\
      --queue-url ${queues.intakeQueueUrl} \\
      --message-group-id crm --message-deduplication-id order-42-v1 \\
      --message-body '${exampleBody}'

Ctrl-C stops everything.
`);
