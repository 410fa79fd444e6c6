/**
 * Peak memory of one Lambda copy: (a) the API function handling one signed ~6 MB webhook of 60,000 users
 * (API_INLINE_CALLS default, so most users go to the overflow queue) and (b) the worker handling one batch
 * of 10 SQS records of ~1 MiB (9,000 users each). Each scenario runs in a fresh child process
 * (bench/support/memory-child.ts) whose peak RSS (`process.resourceUsage().maxRSS`) is reported; the IM
 * emulator and fauxqs run here, in the parent, so they are not counted. Target: well within a 256 MB function.
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
import { SQS_MAX_MESSAGE_BYTES } from '../lib/queue/message-format.ts';
import { apiEvent, TEST_CREDENTIALS } from '../test/helpers/factories.ts';
import { startStack } from '../test/helpers/stack.ts';
import type { MemoryChildResult } from './support/memory-child.ts';
import { sizedUsersBody } from './support/payloads.ts';
import { mb } from './support/stats.ts';

const LAMBDA_MEMORY_MB = 256;
// A copy should keep a quarter of its memory free: GC timing and payloads vary between invocations.
const TARGET_PEAK_SHARE = 0.75;
const WEBHOOK_USERS = 60_000;
const WEBHOOK_MAX_BYTES = 6_000_000;
const RECORDS = 10;
const RECORD_USERS = 9_000;
// Room under SQS's limit for the message attributes.
const RECORD_MAX_BYTES = SQS_MAX_MESSAGE_BYTES - 16 * 1024;

const childScript = fileURLToPath(new URL('support/memory-child.ts', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'tim-attr-gateway-memory-'));
const stack = await startStack({ emulatorRateLimit: 0 });

/** Runs one scenario in a fresh process; its logs are dropped, its stderr kept for a failure message. */
async function measure(role: 'api' | 'worker', eventFile: string, env: Readonly<Record<string, string>>): Promise<MemoryChildResult> {
  const resultFile = join(work, `${role}-result.json`);
  const child = spawn(process.execPath, [childScript, role, eventFile], { env: { ...env, MEMORY_RESULT_FILE: resultFile }, stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stderr.pipe(process.stderr);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the ${role} child failed (exit ${String(code)}): ${stderr.slice(0, 2000)}`);
  return JSON.parse(await readFile(resultFile, 'utf8')) as MemoryChildResult;
}

try {
  // The child has no mocked Secrets Manager: it takes the local credentials from env instead of SECRET_ID.
  const childEnv: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    TIM_SDKAPPID: String(TEST_CREDENTIALS.sdkAppId),
    TIM_IDENTIFIER: TEST_CREDENTIALS.identifier,
    TIM_SECRET_KEY: TEST_CREDENTIALS.secretKey,
    WEBHOOK_SECRET: TEST_CREDENTIALS.webhookSecret,
    IM_BASE_URL: stack.emulator.url,
    OVERFLOW_QUEUE_URL: stack.overflowUrl,
    DLQ_URL: stack.dlqUrl,
    // fauxqs serves its queues at its endpoint's root.
    SQS_ENDPOINT: new URL(stack.overflowUrl).origin,
    AWS_REGION: 'ap-southeast-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    LOG_LEVEL: 'INFO',
    POWERTOOLS_SERVICE_NAME: 'tim-attr-gateway',
    POWERTOOLS_METRICS_NAMESPACE: 'TimAttrGateway',
  };

  // (b) first, while the overflow queue holds only these records: producer messages as Lambda delivers them.
  for (let p = 0; p < RECORDS; p++) await stack.send(sizedUsersBody({ count: RECORD_USERS, maxBytes: RECORD_MAX_BYTES, prefix: `producer${p}` }), { requestId: `bench-producer-${p}` });
  const records: SQSRecord[] = [];
  while (records.length < RECORDS) records.push(...(await stack.receiveEvent()).Records);
  const workerEventFile = join(work, 'worker-event.json');
  await writeFile(workerEventFile, JSON.stringify({ Records: records }));
  // The worker gets a high budget so the batch finishes in one invocation with IM calls in flight at once:
  // the most it would ever hold. At the default budget it paces 18 calls/s and requeues what is left.
  const worker = await measure('worker', workerEventFile, { ...childEnv, IM_RATE_LIMIT: '10000', API_RATE_SHARE: '10', WORKER_MAX_CONCURRENCY: '5' });

  const apiEventFile = join(work, 'api-event.json');
  await writeFile(apiEventFile, JSON.stringify(apiEvent(sizedUsersBody({ count: WEBHOOK_USERS, maxBytes: WEBHOOK_MAX_BYTES }))));
  const api = await measure('api', apiEventFile, childEnv);

  const budget = LAMBDA_MEMORY_MB * 1024 * 1024;
  const report = (label: string, r: MemoryChildResult) => {
    const share = r.peakRss / budget;
    console.log(`${label}`);
    console.log(`  event             ${mb(r.eventBytes)} (as the runtime hands it over, JSON)`);
    console.log(`  outcome           ${r.outcome} in ${(r.invokeMs / 1000).toFixed(2)} s`);
    console.log(`  baseline RSS      ${mb(r.baselineRss)} (handler loaded, before the event)`);
    console.log(`  peak RSS          ${mb(r.peakRss)} = ${(share * 100).toFixed(0)}% of ${LAMBDA_MEMORY_MB} MB ${share <= TARGET_PEAK_SHARE ? 'ok' : 'OVER'} (target ≤ ${TARGET_PEAK_SHARE * 100}%)`);
    return share <= TARGET_PEAK_SHARE;
  };
  const apiOk = report(`api: one signed webhook of ${WEBHOOK_USERS.toLocaleString('en')} users`, api);
  const workerOk = report(`worker: ${RECORDS} SQS records of ${RECORD_USERS.toLocaleString('en')} users each`, worker);
  const peak = Math.max(api.peakRss, worker.peakRss) / budget;
  console.log(
    `\nmemorySize ${LAMBDA_MEMORY_MB} MB: ${apiOk && workerOk ? `enough (the larger peak uses ${(peak * 100).toFixed(0)}%)` : `too small (the larger peak uses ${(peak * 100).toFixed(0)}%)`}. ` +
      'Child processes run the TypeScript sources (type stripping), slightly heavier than the deployed bundle.',
  );
  if (!(apiOk && workerOk)) process.exitCode = 1;
} finally {
  await stack.close();
  await rm(work, { recursive: true, force: true });
}
