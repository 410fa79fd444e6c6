/**
 * Local stand-in for the worker's SQS event source mapping: polls the overflow queue and invokes
 * handlers/worker.ts with real SQS events (ReportBatchItemFailures semantics). `npm start` runs one
 * process per worker copy; it also runs alone:
 *
 *   OVERFLOW_QUEUE_URL=… SQS_ENDPOINT=http://localhost:4566 node scripts/local-sqs-poller.ts
 *
 * Environment: OVERFLOW_QUEUE_URL (required), SQS_ENDPOINT, AWS_REGION, WORKER_BATCH_SIZE, WORKER_BATCHING_WINDOW_SECONDS,
 * WORKER_TIMEOUT_SECONDS, POLLER_CONCURRENCY (invocations side by side in this process, default 1),
 * LOCAL_RETRY_VISIBILITY_SECONDS (unset: failed records wait out the queue's visibility timeout).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { LocalSettingsError, readLocalSettings } from './local/local-settings.ts';
import { startSqsEventSource } from './local/sqs-event-source.ts';
import type { SqsBatchHandler } from './local/sqs-event-source.ts';

const env = process.env;
const queueUrl = env['OVERFLOW_QUEUE_URL'];
if (queueUrl === undefined || queueUrl === '') throw new LocalSettingsError('OVERFLOW_QUEUE_URL', '', 'must be set');
const settings = readLocalSettings(env);
const concurrencyText = env['POLLER_CONCURRENCY'] ?? '1';
const concurrency = Number(concurrencyText);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  throw new LocalSettingsError('POLLER_CONCURRENCY', concurrencyText, 'must be a whole number ≥ 1');
}
const retryText = env['LOCAL_RETRY_VISIBILITY_SECONDS'];
const retryVisibilitySeconds = retryText === undefined || retryText === '' ? undefined : settings.retryVisibilitySeconds;

// The worker module reads its configuration when loaded, so it is imported once the environment is final.
process.env['FUNCTION_ROLE'] = 'worker';
const worker: { handler: SqsBatchHandler } = await import('../handlers/worker.ts');

const endpoint = env['SQS_ENDPOINT'];
const client = new SQSClient({
  region: settings.awsRegion,
  ...(endpoint === undefined || endpoint === '' ? {} : { endpoint }),
});
const source = startSqsEventSource({
  client,
  queueUrl,
  handler: worker.handler,
  batchSize: settings.workerBatchSize,
  batchingWindowSeconds: settings.workerBatchingWindowSeconds,
  concurrency,
  timeoutMs: settings.workerTimeoutSeconds * 1000,
  ...(retryVisibilitySeconds === undefined ? {} : { retryVisibilitySeconds }),
  functionName: `tim-attr-gateway-${settings.stage}-worker`,
  awsRegion: settings.awsRegion,
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  await source.stop();
  client.destroy();
  process.stderr.write(`${JSON.stringify({ source: 'sqs-event-source', level: 'info', message: `${signal}: stopped`, ...source.stats })}\n`);
  process.exit(0);
}
process.on('SIGINT', (signal) => void stop(signal));
process.on('SIGTERM', (signal) => void stop(signal));
