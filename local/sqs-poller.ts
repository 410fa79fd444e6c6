/**
 * Local stand-in for one of the worker's SQS event source mappings: polls one queue and invokes
 * handlers/worker.ts with real SQS events (ReportBatchItemFailures semantics; FIFO mode for a `.fifo` queue).
 * `npm start` runs one process per worker copy on the lanes queue and one on the intake queue; it also runs alone:
 *
 *   QUEUE_URL=http://localhost:4566/000000000000/tim-attr-gateway-local-lanes.fifo SQS_ENDPOINT=http://localhost:4566 \
 *     LANES_QUEUE_URL=… INTAKE_QUEUE_URL=… DLQ_URL=… TIM_SDKAPPID=… … node local/sqs-poller.ts
 *
 * Environment: QUEUE_URL (the queue to poll; default LANES_QUEUE_URL), SQS_ENDPOINT, AWS_REGION,
 * WORKER_BATCH_SIZE (≤ 10 for a FIFO queue), WORKER_TIMEOUT_SECONDS, POLLER_CONCURRENCY (invocations side by
 * side in this process, default 1), LOCAL_RETRY_VISIBILITY_SECONDS (unset: failed records come back when the
 * worker's own backoff says, as deployed). The worker itself reads the rest (LANES_QUEUE_URL, DLQ_URL, …).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { LocalSettingsError, readLocalSettings } from '../lib/config/local-settings.ts';
import { startSqsEventSource } from './sqs-event-source.ts';
import type { SqsBatchHandler } from './sqs-event-source.ts';

const env = process.env;
const nonEmpty = (name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};
const queueUrl = nonEmpty('QUEUE_URL') ?? nonEmpty('LANES_QUEUE_URL');
if (queueUrl === undefined) throw new LocalSettingsError('QUEUE_URL', '', 'or LANES_QUEUE_URL must be set');
const settings = readLocalSettings(env);
const concurrencyText = env['POLLER_CONCURRENCY'] ?? '1';
const concurrency = Number(concurrencyText);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  throw new LocalSettingsError('POLLER_CONCURRENCY', concurrencyText, 'must be a whole number ≥ 1');
}
const { retryVisibilitySeconds } = settings;

// The worker module reads its configuration when loaded, so it is imported once the environment is final.
process.env['FUNCTION_ROLE'] = 'worker';
const worker: { handler: SqsBatchHandler } = await import('../handlers/worker.ts');

const endpoint = nonEmpty('SQS_ENDPOINT');
const client = new SQSClient({
  region: settings.awsRegion,
  ...(endpoint === undefined ? {} : { endpoint }),
});
const source = startSqsEventSource({
  client,
  queueUrl,
  handler: worker.handler,
  batchSize: settings.workerBatchSize,
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
  process.stderr.write(
    `${JSON.stringify({ source: 'sqs-event-source', level: 'info', message: `${signal}: stopped`, queueUrl, ...source.stats })}\n`,
  );
  process.exit(0);
}
process.on('SIGINT', (signal) => void stop(signal));
process.on('SIGTERM', (signal) => void stop(signal));
