/**
 * `npm run bench:fleet`: the API function plus 2, 5 and 10 worker copies, each its own process with its
 * share of the fleet budget, against the IM emulator enforcing the global 100 calls/s (20–60 ms latency),
 * for 60 s of sustained work with a burst of webhooks in the middle. The worker copies are pollers of the
 * lanes queue in FIFO mode (scripts/local-sqs-poller.ts), plus one poller of the intake queue. Prints users/s
 * against the 10,000 ceiling, rate-limit answers as a share of calls, and users lost.
 *
 * Work: the lanes are preloaded as the API leaves them after large webhooks (lane messages of 2,500 users,
 * planned and written by the real planner and SQS adapter), enough for the whole window; a few producer
 * messages wait in the intake queue for the intake poller to move them into lanes.
 *
 * Options: --sizes 2,5,10  --seconds 60  --batch-size fit|1..10 (records per lanes invocation; see batchSizeFor)
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { DEFAULTS } from '../lib/config/config.ts';
import { planLaneMessages } from '../lib/lanes/lane-plan.ts';
import { SqsLanes } from '../lib/queue/sqs-lanes.ts';
import { createLocalQueues } from '../scripts/local/local-queues.ts';
import { startLocalTables } from '../scripts/local/local-tables.ts';
import { startEmulator } from '../test/emulator/index.ts';
import { makeUsers, TEST_CREDENTIALS } from '../test/helpers/factories.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '2,5,10' }, seconds: { type: 'string', default: '60' }, 'batch-size': { type: 'string', default: 'fit' } } });
const SIZES = values.sizes.split(',').map(Number);
const SECONDS = Number(values.seconds);
/**
 * fauxqs hands out at most one message per message group per receive, where SQS returns as many of one group
 * as it can: locally a batch of 10 records holds 10 lanes, so only laneCount / 10 copies find work at once
 * (5 copies measured 3,886 users/s, 10 copies less). `fit` (the default) takes min(10, laneCount / workers)
 * records a batch so every copy holds lanes at once, as on SQS; a number forces that batch size.
 */
const batchSizeFor = (workers: number): number =>
  values['batch-size'] === 'fit' ? Math.max(1, Math.min(DEFAULTS.workerBatchSize, Math.floor(DEFAULTS.laneCount / workers))) : Number(values['batch-size']);
const WARMUP_S = 5;
const CEILING = 10_000;
const LANE_WEBHOOK_USERS = 50_000;
const INTAKE = { messages: 10, usersEach: 2_000 };
const BURST = { webhooks: 20, usersEach: 2_000 };
const RATE_LIMITED = 60007;
const REGION = 'ap-southeast-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BurstResult {
  readonly applied: number;
  readonly queued: number;
  readonly failed: number;
}

interface FleetResult {
  readonly workers: number;
  readonly batchSize: number;
  readonly usersPerSecond: number;
  readonly rateLimitShare: number;
  readonly rateLimited: number;
  readonly calls: number;
  readonly lost: number;
  readonly drainSeconds: number;
  readonly burst: BurstResult;
}

async function runFleet(workers: number): Promise<FleetResult> {
  const batchSize = batchSizeFor(workers);
  const emulator = await startEmulator({
    sdkAppId: TEST_CREDENTIALS.sdkAppId,
    adminIdentifier: TEST_CREDENTIALS.identifier,
    secretKey: TEST_CREDENTIALS.secretKey,
    attrNames: ['sex', 'city', 'tier', 'lang'],
    rateLimitPerSecond: 100,
    faults: { latencyMs: [20, 60] },
  });
  const fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: REGION });
  const endpoint = `http://127.0.0.1:${fauxqs.port}`;
  const sqs = new SQSClient({ region: REGION, endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const queues = await createLocalQueues({
    client: sqs,
    lanesQueueName: `fleet-${workers}-lanes.fifo`,
    intakeQueueName: `fleet-${workers}-intake.fifo`,
    deadLetterQueueName: `fleet-${workers}-dlq`,
  });
  const tables = await startLocalTables({ tableName: `fleet-${workers}-idempotency`, port: 0, region: REGION });

  // Enough lane work that the fleet never runs dry during the measured window.
  const lanes = new SqsLanes({ client: sqs, queueUrl: queues.lanesQueueUrl });
  const preload = Math.ceil(((SECONDS + WARMUP_S + 15) * CEILING) / LANE_WEBHOOK_USERS) * LANE_WEBHOOK_USERS;
  for (let at = 0; at < preload; at += LANE_WEBHOOK_USERS) {
    const unsent = await lanes.enqueue(planLaneMessages(makeUsers(LANE_WEBHOOK_USERS, 'fleet', at), DEFAULTS.laneCount, `preload-${at}`), { requestId: `preload-${at}`, origin: 'api' });
    if (unsent.length > 0) throw new Error(`could not preload ${unsent.length} lane messages`);
  }
  for (let m = 0; m < INTAKE.messages; m++) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.intakeQueueUrl,
        MessageBody: JSON.stringify({ UserAttrs: makeUsers(INTAKE.usersEach, `intake-${m}`) }),
        MessageGroupId: `producer-${m % 2}`,
        MessageDeduplicationId: `intake-${m}`,
      }),
    );
  }

  const env = {
    ...process.env,
    IM_BASE_URL: emulator.url,
    LANES_QUEUE_URL: queues.lanesQueueUrl,
    INTAKE_QUEUE_URL: queues.intakeQueueUrl,
    DLQ_URL: queues.deadLetterQueueUrl,
    SQS_ENDPOINT: endpoint,
    IDEMPOTENCY_TABLE: tables.tableName,
    DYNAMODB_ENDPOINT: tables.endpoint,
    AWS_REGION: REGION,
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
    WORKER_BATCH_SIZE: String(batchSize),
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const children: ChildProcess[] = [];
  const api = fork(new URL('./fleet/api-copy.ts', import.meta.url), { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(api);
  await new Promise<void>((resolve) => api.once('message', () => resolve()));
  const poller = fileURLToPath(new URL('../scripts/local-sqs-poller.ts', import.meta.url));
  // The pollers' own stop lines go to stderr; only failures are kept in view.
  for (let i = 0; i < workers; i++) children.push(spawn(process.execPath, [poller], { env: { ...env, QUEUE_URL: queues.lanesQueueUrl }, stdio: ['ignore', 'ignore', 'ignore'] }));
  children.push(spawn(process.execPath, [poller], { env: { ...env, QUEUE_URL: queues.intakeQueueUrl }, stdio: ['ignore', 'ignore', 'ignore'] }));

  try {
    const counters = emulator.counters;
    const setAttrCalls = () => counters.callsByCommand.get('im_set_attr') ?? 0;
    const rateLimited = () => counters.rejectedByCode.get(RATE_LIMITED) ?? 0;
    await sleep(WARMUP_S * 1000);
    const start = { applied: counters.usersApplied, calls: setAttrCalls(), limited: rateLimited(), at: performance.now() };
    // A burst of webhooks arrives in the middle of the window.
    await sleep((SECONDS * 1000) / 2);
    const burst = new Promise<BurstResult>((resolve) => api.once('message', (m) => resolve(m as BurstResult)));
    api.send({ ...BURST, prefix: 'burst' });
    await sleep((SECONDS * 1000) / 2);
    const end = { applied: counters.usersApplied, calls: setAttrCalls(), limited: rateLimited(), at: performance.now() };
    const burstResult = await burst;
    const usersPerSecond = (end.applied - start.applied) / ((end.at - start.at) / 1000);

    // Then everything must arrive: the rest of the preload, the intake messages and the burst (given time
    // for the rest at the pace just measured, and never less than 3 minutes).
    const expected = preload + INTAKE.messages * INTAKE.usersEach + BURST.webhooks * BURST.usersEach;
    const drainStarted = performance.now();
    const until = Date.now() + Math.max(180_000, (2 * 1000 * (expected - emulator.attrs.size)) / Math.max(usersPerSecond, 1));
    while (emulator.attrs.size < expected && Date.now() < until) await sleep(500);
    const calls = end.calls - start.calls;
    const limited = end.limited - start.limited;
    return {
      workers,
      batchSize,
      usersPerSecond,
      rateLimitShare: calls === 0 ? 0 : limited / calls,
      rateLimited: limited,
      calls,
      lost: expected - emulator.attrs.size,
      drainSeconds: (performance.now() - drainStarted) / 1000,
      burst: burstResult,
    };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await sleep(500);
    sqs.destroy();
    await emulator.close();
    await fauxqs.stop();
    await tables.close();
  }
}

const results: FleetResult[] = [];
for (const workers of SIZES) {
  process.stdout.write(`fleet: API + ${workers} workers (lanes batches of ≤ ${batchSizeFor(workers)} records, ${DEFAULTS.laneCount} lanes), ${SECONDS} s …\n`);
  const r = await runFleet(workers);
  results.push(r);
  process.stdout.write(
    `fleet: API + ${String(r.workers).padStart(2)} workers: ${Math.round(r.usersPerSecond).toLocaleString('en-US')} users/s (${((r.usersPerSecond / CEILING) * 100).toFixed(1)}% of 10,000), ` +
      `rate-limit answers ${r.rateLimited}/${r.calls} calls (${(r.rateLimitShare * 100).toFixed(2)}%), lost ${r.lost} (rest drained in ${r.drainSeconds.toFixed(0)} s); ` +
      `burst of ${BURST.webhooks}×${BURST.usersEach}: applied early ${r.burst.applied}, queued ${r.burst.queued}, failed ${r.burst.failed}\n`,
  );
}
const ok = results.every((r) => r.usersPerSecond >= 9_500 && r.rateLimitShare < 0.005 && r.lost === 0);
process.stdout.write(`fleet: targets (≥ 9,500 users/s, < 0.5% rate-limit answers, 0 lost at every size): ${ok ? 'met' : 'MISSED'}\n`);
if (!ok) process.exitCode = 1;
