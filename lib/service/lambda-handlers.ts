/**
 * The two Lambda entry points as middy handlers over the use cases. They own no business rule: they turn
 * events into use-case input and outcomes into responses, with logs and metrics around them.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { acceptedResponse, errorResponse } from '../http/responses.ts';
import { readWebhookRequest } from '../http/webhook-request.ts';
import { METRIC } from '../observability/telemetry.ts';
import { acceptWebhook } from '../usecases/accept-webhook.ts';
import { processQueueBatch } from '../usecases/process-queue-batch.ts';
import { describe, type Services } from './services.ts';

/** The epoch ms by which IM calls must be over: the function's deadline less a safety margin. */
function deadlineOf(context: Context, marginMs: number): number {
  return Date.now() + context.getRemainingTimeInMillis() - marginMs;
}

/**
 * Logs carry the Lambda context and a fresh set of keys per invocation; the IM call counts are moved into
 * the metrics buffer before Powertools publishes it (middy runs `after` hooks in reverse order).
 */
function withTelemetry<E, R>(s: Services, run: (event: E, context: Context) => Promise<R>) {
  const flushImCalls = { after: () => s.imCalls.flush(), onError: () => s.imCalls.flush() };
  return middy<E, R>()
    .use(injectLambdaContext(s.logger, { resetKeys: true }))
    .use(logMetrics(s.metrics))
    .use(flushImCalls)
    .handler(run);
}

/** `POST /v1/user-attrs` (HTTP API, payload 2.0). */
export function createApiHandler(s: Services) {
  return withTelemetry<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(s, async (event, context) => {
    const requestId = event.requestContext.requestId;
    s.logger.appendKeys({ requestId });
    try {
      const body = await readWebhookRequest(event, {
        maxBodyBytes: s.config.maxBodyBytes,
        auth: s.config.webhookAuth,
        authenticator: s.webhookAuth,
        webhookSecret: async () => (await s.credentials.get()).webhookSecret,
      });
      const result = await acceptWebhook(
        { im: s.im, attrNames: s.attrNames, overflow: s.overflow, inlineCalls: s.config.apiInlineCalls, inlineCapacity: () => s.limiter.startsWithin(s.config.apiInlineWaitMs) },
        { requestId, body, deadlineMs: deadlineOf(context, s.config.deadlineMarginMs) },
      );
      s.metrics.addMetric(METRIC.usersReceived, MetricUnit.Count, result.received);
      s.metrics.addMetric(METRIC.usersApplied, MetricUnit.Count, result.applied);
      s.metrics.addMetric(METRIC.usersQueued, MetricUnit.Count, result.queued);
      s.metrics.addMetric(METRIC.usersRejected, MetricUnit.Count, result.rejected.length);
      s.logger.info('webhook processed', {
        received: result.received,
        merged: result.merged,
        applied: result.applied,
        queued: result.queued,
        rejected: result.rejected.length,
        deferred: result.deferred,
      });
      return acceptedResponse(result);
    } catch (error) {
      const response = errorResponse(error, requestId);
      if (response.statusCode !== undefined && response.statusCode >= 500) s.logger.error('webhook failed', { error: describe(error), status: response.statusCode });
      else s.logger.warn('webhook refused', { error: describe(error), status: response.statusCode });
      return response;
    }
  });
}

/** The overflow queue's consumer, with partial batch responses (ReportBatchItemFailures). */
export function createWorkerHandler(s: Services) {
  return withTelemetry<SQSEvent, SQSBatchResponse>(s, async (event, context) => {
    if (s.deadLetters === undefined || s.overflow === undefined) throw new Error('the worker needs OVERFLOW_QUEUE_URL and DLQ_URL');
    const outcome = await processQueueBatch({ im: s.im, attrNames: s.attrNames, deadLetters: s.deadLetters, overflow: s.overflow }, event.Records, deadlineOf(context, s.config.deadlineMarginMs));
    let received = 0;
    for (const r of outcome.records) {
      received += r.received;
      s.metrics.addMetric(METRIC.usersApplied, MetricUnit.Count, r.applied);
      s.metrics.addMetric(METRIC.usersQueued, MetricUnit.Count, r.requeued);
      s.metrics.addMetric(METRIC.usersDeadLettered, MetricUnit.Count, r.deadLettered);
      if (r.failed || r.deadLettered > 0 || r.requeued > 0) s.logger.info('record outcome', { ...r });
    }
    s.metrics.addMetric(METRIC.usersReceived, MetricUnit.Count, received);
    s.logger.info('batch processed', { records: event.Records.length, failed: outcome.failedIds.length });
    return { batchItemFailures: outcome.failedIds.map((itemIdentifier) => ({ itemIdentifier })) };
  });
}
