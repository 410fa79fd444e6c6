/**
 * Peak memory of one Lambda copy: (a) the API function handling the largest signed webhook of 50,000 users it takes (an event of ≤ 6.2 MB)
 * (every user written into its lane, then one early write), (b) the worker handling a batch of 10 lane
 * records as large as the lane planner makes them (~0.9 MB each), and (c) the worker handling a batch of 10
 * intake records of ~1 MiB (9,000 users each), which it moves into lanes. Each scenario runs in a fresh child
 * process (bench/support/memory-child.ts, compiled to JavaScript) that imports the function's bundle, built
 * with serverless.yml's esbuild options: its `handler` is `createApiHandler`/`createWorkerHandler` over
 * `createApiServices`/`createWorkerServices` over `loadConfig(process.env)`, as deployed. Its peak RSS (`process.resourceUsage().maxRSS`) is
 * reported. The children get the V8 heap limits Lambda's Node.js bootstrap sets for the function's memory
 * and local credentials via env (no Secrets Manager). The IM emulator, fauxqs and dynalite run here, in the
 * parent, so they are not counted. Target: peak ≤ 75% of the 256 MB function.
 * Prints figures; it is not a test.
 *
 * Run: npx node bench/memory.bench.ts
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSRecord } from 'aws-lambda';
import { DEFAULTS } from '../lib/config/config.ts';
import { MAX_EVENT_BYTES } from '../lib/http/webhook-request.ts';
import { planLaneMessages, type LaneMessage } from '../lib/core/lanes/lane-plan.ts';
import { SQS_MAX_MESSAGE_BYTES } from '../lib/queue/message-format.ts';
import type { UserUpdate } from '../lib/core/rules/types.ts';
import { apiEvent, TEST_CREDENTIALS } from '../test/helpers/factories.ts';
import { startStack } from '../test/helpers/stack.ts';
import {
  buildFunctionBundle,
  compileScript,
  linkNodeModules,
  readServerlessEsbuildOptions,
  takesSdkFromRuntime,
} from './support/function-bundle.ts';
import type { MemoryChildResult } from './support/memory-child.ts';
import { sizedUsersBody } from './support/payloads.ts';
import { mb } from './support/stats.ts';

const LAMBDA_MEMORY_MB = 256;
// A copy should keep a quarter of its memory free: GC timing and payloads vary between invocations.
const TARGET_PEAK_SHARE = 0.75;
const WEBHOOK_USERS = 50_000;
const WEBHOOK_MAX_BYTES = 6_000_000;
const RECORDS = 10;
const RECORD_USERS = 9_000;
/**
 * A value JSON writes as 6 bytes a character (`\u0001`): the lane planner bounds a message by 6 bytes per
 * character, so only such values make lane messages near its 900,000-byte bound; plain ASCII stays ~1/6 of it.
 */
const HEAVY_VALUE = '\u0001'.repeat(50);
// Room under SQS's limit for the message attributes.
const RECORD_MAX_BYTES = SQS_MAX_MESSAGE_BYTES - 16 * 1024;

/**
 * The heap limits Lambda's Node.js bootstrap derives from the function's memory (a tenth for the young
 * generation, split in two semi-spaces; the rest for the old one), plus the source maps serverless.yml enables.
 */
function lambdaNodeFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`];
}

const root = fileURLToPath(new URL('..', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'tim-attr-gateway-memory-'));
const childScript = join(work, 'memory-child.mjs');
const stack = await startStack({ emulatorRateLimit: 0 });

let runs = 0;

/** Runs one scenario in a fresh process; its logs are dropped, its stderr kept for a failure message. */
async function measure(
  role: 'api' | 'worker',
  eventFile: string,
  bundle: string,
  env: Readonly<Record<string, string>>,
): Promise<MemoryChildResult> {
  const resultFile = join(work, `${role}-${String(++runs)}-result.json`);
  const args = [...lambdaNodeFlags(LAMBDA_MEMORY_MB), childScript, role, eventFile, bundle];
  const child = spawn(process.execPath, args, {
    env: { ...env, FUNCTION_ROLE: role, MEMORY_RESULT_FILE: resultFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the ${role} child failed (exit ${String(code)}): ${stderr.slice(0, 2000)}`);
  return JSON.parse(await readFile(resultFile, 'utf8')) as MemoryChildResult;
}

try {
  const serverless = await readServerlessEsbuildOptions(root);
  const awsSdk = takesSdkFromRuntime(serverless) ? 'runtime' : 'bundled';
  const bundleDir = join(work, 'bundles');
  const bundles = {
    api: (await buildFunctionBundle({ root, entry: 'handlers/api.ts', outDir: bundleDir, serverless, awsSdk }))
      .modulePath,
    worker: (await buildFunctionBundle({ root, entry: 'handlers/worker.ts', outDir: bundleDir, serverless, awsSdk }))
      .modulePath,
  };
  if (awsSdk === 'runtime') await linkNodeModules(bundleDir, root);
  await compileScript(root, 'bench/support/memory-child.ts', childScript);

  // The children have no mocked Secrets Manager: they take the local credentials from env, not SECRET_ID.
  const childEnv: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    TIM_SDKAPPID: String(TEST_CREDENTIALS.sdkAppId),
    TIM_IDENTIFIER: TEST_CREDENTIALS.identifier,
    TIM_SECRET_KEY: TEST_CREDENTIALS.secretKey,
    WEBHOOK_SECRET: TEST_CREDENTIALS.webhookSecret,
    IM_BASE_URL: stack.emulator.url,
    LANES_QUEUE_URL: stack.lanesUrl,
    INTAKE_QUEUE_URL: stack.intakeUrl,
    DLQ_URL: stack.dlqUrl,
    SQS_ENDPOINT: stack.sqsEndpoint,
    IDEMPOTENCY_TABLE: stack.tableName,
    DYNAMODB_ENDPOINT: stack.dynamoEndpoint,
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(LAMBDA_MEMORY_MB),
    LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: 'tim-attr-gateway',
    POWERTOOLS_METRICS_NAMESPACE: 'TimAttrGateway',
  };

  // (b) The first, full message of 10 lanes, planned and written by the real planner and SQS adapter.
  const heavyUsers: UserUpdate[] = Array.from({ length: 15_000 }, (_, i) => ({
    To_Account: `heavy-${i.toString().padStart(7, '0')}`,
    Attrs: { city: HEAVY_VALUE, lang: HEAVY_VALUE, tier: HEAVY_VALUE, sex: HEAVY_VALUE },
  }));
  const full: LaneMessage[] = planLaneMessages(heavyUsers, DEFAULTS.laneCount, 'bench-memory-lanes')
    .filter((m) => m.position === 0)
    .slice(0, RECORDS);
  const { services } = stack.copy({}, 'worker');
  if (
    services.lanes === undefined ||
    (await services.lanes.enqueue(full, { requestId: 'bench-memory-lanes', origin: 'api' })).length > 0
  )
    throw new Error('could not write the lane records');
  const laneEvent = await stack.receiveEvent(stack.lanesUrl);
  if (laneEvent.Records.length !== RECORDS)
    throw new Error(`received ${laneEvent.Records.length} lane records, not ${RECORDS}`);
  const laneEventFile = join(work, 'lanes-event.json');
  await writeFile(laneEventFile, JSON.stringify(laneEvent));

  // (c) One producer message per group, so one FIFO receive (one message per group) takes all of them.
  for (let p = 0; p < RECORDS; p++) {
    await stack.sendIntake(
      sizedUsersBody({ count: RECORD_USERS, maxBytes: RECORD_MAX_BYTES, prefix: `producer${p}` }),
      { groupId: `producer${p}`, attributes: { requestId: `bench-producer-${p}` } },
    );
  }
  const intakeRecords: SQSRecord[] = [];
  while (intakeRecords.length < RECORDS) intakeRecords.push(...(await stack.receiveEvent(stack.intakeUrl)).Records);
  const intakeEventFile = join(work, 'intake-event.json');
  await writeFile(intakeEventFile, JSON.stringify({ Records: intakeRecords }));

  const apiEventFile = join(work, 'api-event.json');
  // The largest webhook of this many users the API takes: its event, the body JSON-escaped, within MAX_EVENT_BYTES.
  let bodyBytes = WEBHOOK_MAX_BYTES;
  let apiEventJson = JSON.stringify(apiEvent(sizedUsersBody({ count: WEBHOOK_USERS, maxBytes: bodyBytes })));
  while (Buffer.byteLength(apiEventJson) > MAX_EVENT_BYTES) {
    bodyBytes -= 20_000;
    apiEventJson = JSON.stringify(apiEvent(sizedUsersBody({ count: WEBHOOK_USERS, maxBytes: bodyBytes })));
  }
  await writeFile(apiEventFile, apiEventJson);

  // The worker gets a high budget so the lane batch is in flight at once, up to IM_MAX_IN_FLIGHT calls: the
  // most it would ever hold. At the default budget it paces 19.6 calls/s and holds fewer calls at a time.
  const workerEnv = { ...childEnv, IM_RATE_LIMIT: '10000', API_RATE_SHARE: '10', WORKER_MAX_CONCURRENCY: '5' };
  const laneBytes = laneEvent.Records.reduce((n, r) => n + Buffer.byteLength(r.body), 0) / RECORDS;
  const scenarios = [
    {
      label: `api: one signed webhook of ${WEBHOOK_USERS.toLocaleString('en')} users`,
      run: () => measure('api', apiEventFile, bundles.api, childEnv),
    },
    {
      label: `worker (lanes): ${RECORDS} lane records of ${Math.round(full.reduce((n, m) => n + m.users.length, 0) / RECORDS)} users, ${mb(laneBytes)} each (high budget)`,
      run: () => measure('worker', laneEventFile, bundles.worker, workerEnv),
    },
    {
      label: `worker (intake): ${RECORDS} intake records of ${RECORD_USERS.toLocaleString('en')} users each, ~1 MiB`,
      run: () => measure('worker', intakeEventFile, bundles.worker, workerEnv),
    },
  ];

  const budget = LAMBDA_MEMORY_MB * 1024 * 1024;
  console.log(
    `children: node ${lambdaNodeFlags(LAMBDA_MEMORY_MB).join(' ')} (Lambda's flags for ${LAMBDA_MEMORY_MB} MB); bundles as serverless.yml builds them, AWS SDK ${awsSdk}`,
  );
  let worstDeployed = 0;
  for (const scenario of scenarios) {
    const r = await scenario.run();
    const share = r.peakRss / budget;
    worstDeployed = Math.max(worstDeployed, share);
    console.log(`\n${scenario.label}`);
    console.log(`  event         ${mb(r.eventBytes)} (the invocation as the runtime hands it over, JSON)`);
    // A peak is only worth reading when the handler did the work: a refusal holds far less.
    const done = /^HTTP 2\d\d/.test(r.outcome) || /, 0 failed$/.test(r.outcome);
    if (!done) process.exitCode = 1;
    console.log(
      `  outcome       ${r.outcome} in ${(r.invokeMs / 1000).toFixed(2)} s${done ? '' : ' — NOT DONE: the peak does not count'}`,
    );
    console.log(`  baseline RSS  ${mb(r.baselineRss)} (${r.bundle} imported, before the event)`);
    console.log(
      `  peak RSS      ${mb(r.peakRss)} = ${(share * 100).toFixed(0)}% of ${LAMBDA_MEMORY_MB} MB ${share <= TARGET_PEAK_SHARE ? 'ok' : 'OVER'} (target ≤ ${TARGET_PEAK_SHARE * 100}%)`,
    );
  }
  const fits = worstDeployed <= TARGET_PEAK_SHARE;
  console.log(
    `\nmemorySize ${LAMBDA_MEMORY_MB} MB: ${fits ? 'enough' : 'too tight'} — the larger peak uses ${(worstDeployed * 100).toFixed(0)}% of it.`,
  );
  if (!fits) process.exitCode = 1;
} finally {
  await stack.close();
  await rm(work, { recursive: true, force: true });
}
