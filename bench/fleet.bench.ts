/**
 * `npm run bench:fleet`: the API function plus 2, 5 and 10 worker copies, each its own process with its
 * share of the fleet budget, against the IM emulator enforcing the global 100 calls/s (20–60 ms latency),
 * for 60 s of sustained work (the lanes queue preloaded) with a burst of webhooks in the middle. Prints users/s against the 10,000
 * ceiling, rate-limit answers as a share of calls, and users lost.
 * Options: --sizes 2,5,10  --seconds 60
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { planLaneMessages } from '../lib/lanes/lane-plan.ts';
import { SqsLanes } from '../lib/queue/sqs-lanes.ts';
import DEFAULTS from '../lib/config/defaults.json' with { type: 'json' };
import { createLocalQueues } from '../scripts/local/local-queues.ts';
import { startEmulator } from '../test/emulator/index.ts';
import { makeUsers, TEST_CREDENTIALS } from '../test/helpers/factories.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '2,5,10' }, seconds: { type: 'string', default: '60' } } });
const SIZES = values.sizes.split(',').map(Number);
const SECONDS = Number(values.seconds);
const WARMUP_S = 5;
const CEILING = 10_000;
const USERS_PER_MESSAGE = 1_000;
const BURST = { webhooks: 20, usersEach: 2_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FleetResult {
  readonly workers: number;
  readonly usersPerSecond: number;
  readonly rateLimitShare: number;
  readonly rateLimited: number;
  readonly calls: number;
  readonly lost: number;
  readonly burst: { applied: number; queued: number; failed: number };
}

async function runFleet(workers: number): Promise<FleetResult> {
  const emulator = await startEmulator({
    sdkAppId: TEST_CREDENTIALS.sdkAppId,
    adminIdentifier: TEST_CREDENTIALS.identifier,
    secretKey: TEST_CREDENTIALS.secretKey,
    attrNames: ['sex', 'city', 'tier', 'lang'],
    rateLimitPerSecond: 100,
    faults: { latencyMs: [20, 60] },
  });
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${fauxqs.port}`;
  const sqs = new SQSClient({ region: 'ap-southeast-1', endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const queues = await createLocalQueues({ client: sqs, lanesQueueName: `fleet-${workers}-lanes.fifo`, intakeQueueName: `fleet-${workers}-intake.fifo`, deadLetterQueueName: `fleet-${workers}-dlq` });

  // Enough work in the lanes that the fleet never runs dry during the measured window, as the API writes it.
  const preload = Math.ceil(((SECONDS + WARMUP_S + 15) * CEILING) / USERS_PER_MESSAGE) * USERS_PER_MESSAGE;
  const lanes = new SqsLanes({ client: sqs, queueUrl: queues.lanesQueueUrl });
  for (let at = 0; at < preload; at += USERS_PER_MESSAGE * 10) {
    const unsent = await lanes.enqueue(planLaneMessages(makeUsers(USERS_PER_MESSAGE * 10, 'fleet', at), DEFAULTS.laneCount, `preload-${at}`), { requestId: `preload-${at}`, origin: 'bench' });
    if (unsent.length > 0) throw new Error('preload: lane messages not written');
  }

  const env = {
    ...process.env,
    IM_BASE_URL: emulator.url,
    LANES_QUEUE_URL: queues.lanesQueueUrl,
    INTAKE_QUEUE_URL: queues.intakeQueueUrl,
    DLQ_URL: queues.deadLetterQueueUrl,
    SQS_ENDPOINT: endpoint,
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    TIM_SDKAPPID: String(TEST_CREDENTIALS.sdkAppId),
    TIM_IDENTIFIER: TEST_CREDENTIALS.identifier,
    TIM_SECRET_KEY: TEST_CREDENTIALS.secretKey,
    WEBHOOK_SECRET: TEST_CREDENTIALS.webhookSecret,
    ATTR_NAMES: 'sex,city,tier,lang',
    // The fleet budget as serverless.yml sets it: one API copy here, `workers` worker copies.
    IM_RATE_LIMIT: '100',
    API_RATE_SHARE: '2',
    API_MAX_CONCURRENCY: '1',
    WORKER_MAX_CONCURRENCY: String(workers),
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    LOCAL_RETRY_VISIBILITY_SECONDS: '2',
    WORKER_BATCH_SIZE: String(DEFAULTS.workerBatchSize),
  };
  const children: ChildProcess[] = [];
  const api = fork(new URL('./fleet/api-copy.ts', import.meta.url), { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(api);
  await new Promise<void>((resolve) => api.once('message', () => resolve()));
  for (let i = 0; i < workers; i++) {
    children.push(spawn(process.execPath, [fileURLToPath(new URL('../scripts/local-sqs-poller.ts', import.meta.url))], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
  }

  try {
    const counters = emulator.counters;
    const setAttrCalls = () => counters.callsByCommand.get('im_set_attr') ?? 0;
    const rateLimited = () => counters.rejectedByCode.get(60007) ?? 0;
    await sleep(WARMUP_S * 1000);
    const start = { applied: counters.usersApplied, calls: setAttrCalls(), limited: rateLimited(), at: performance.now() };
    // A burst of webhooks arrives in the middle of the window.
    await sleep((SECONDS * 1000) / 2);
    const burst = new Promise<{ applied: number; queued: number; failed: number }>((resolve) => api.once('message', (m) => resolve(m as { applied: number; queued: number; failed: number })));
    api.send({ ...BURST, prefix: 'burst' });
    await sleep((SECONDS * 1000) / 2);
    const end = { applied: counters.usersApplied, calls: setAttrCalls(), limited: rateLimited(), at: performance.now() };
    const burstResult = await burst;

    // Then everything must arrive: the rest of the preload and the burst.
    const expected = preload + BURST.webhooks * BURST.usersEach;
    const until = Date.now() + 180_000;
    while (emulator.attrs.size < expected && Date.now() < until) await sleep(500);
    const calls = end.calls - start.calls;
    const limited = end.limited - start.limited;
    return {
      workers,
      usersPerSecond: (end.applied - start.applied) / ((end.at - start.at) / 1000),
      rateLimitShare: calls === 0 ? 0 : limited / calls,
      rateLimited: limited,
      calls,
      lost: expected - emulator.attrs.size,
      burst: burstResult,
    };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await sleep(500);
    sqs.destroy();
    await emulator.close();
    await fauxqs.stop();
  }
}

const results: FleetResult[] = [];
for (const workers of SIZES) {
  process.stdout.write(`fleet: API + ${workers} workers, ${SECONDS} s …\n`);
  const r = await runFleet(workers);
  results.push(r);
  process.stdout.write(
    `fleet: API + ${String(r.workers).padStart(2)} workers: ${Math.round(r.usersPerSecond).toLocaleString('en-US')} users/s (${((r.usersPerSecond / CEILING) * 100).toFixed(1)}% of 10,000), ` +
      `rate-limit answers ${r.rateLimited}/${r.calls} calls (${(r.rateLimitShare * 100).toFixed(2)}%), lost ${r.lost}; ` +
      `burst of ${BURST.webhooks}×${BURST.usersEach}: applied inline ${r.burst.applied}, queued ${r.burst.queued}, failed ${r.burst.failed}\n`,
  );
}
const ok = results.every((r) => r.usersPerSecond >= 9_300 && r.rateLimitShare <= 0.005 && r.lost === 0);
process.stdout.write(`fleet: targets (≥ 9,300 users/s, ≤ 0.5 % rate-limit answers, 0 lost at every size): ${ok ? 'met' : 'MISSED'}\n`);
