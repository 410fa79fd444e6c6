/**
 * The two Lambda entry points as middy handlers over the use cases. They own no business rule: they turn
 * events into use-case input and outcomes into responses, with logs and metrics around them.
 */
import { setImmediate } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { acceptedResponse, errorResponse } from '../http/responses.ts';
import { authenticateRequest, parseJsonBody } from '../http/webhook-request.ts';
import { METRIC } from '../observability/telemetry.ts';
import { laneOfGroup } from '../core/lanes/lane-of.ts';
import { toQueueRecord } from '../queue/queue-record.ts';
import { acceptWebhook, readTagsWebhook, readWebhook, type WebhookRead } from '../core/usecases/accept-webhook.ts';
import { answerOnce } from '../core/usecases/answer-once.ts';
import { LanesUnavailableError } from '../core/errors.ts';
import { processLanes, type LanesDeps } from '../core/usecases/process-lanes.ts';
import type { QueueRecord, StoredAnswer } from '../core/ports.ts';
import { relaneIntake, type RelaneDeps } from '../core/usecases/relane-intake.ts';
import { WebhookAuthError } from '../webhook/webhook-authenticator.ts';
import type { ApiServices } from './api-services.ts';
import { describe, type CoreServices } from './services.ts';
import type { WorkerServices } from './worker-services.ts';

/** A call that could start within this many ms finds the budget idle: a lanes round then goes with what it has. */
const BUDGET_IDLE_WITHIN_MS = 10;

/** The lanes a batch's records belong to. */
function lanesOf(records: readonly { readonly group: string }[]): number[] {
  return [...new Set(records.map((r) => laneOfGroup(r.group)).filter((lane) => lane !== undefined))];
}

/** The epoch ms by which IM calls must be over: the function's deadline less a safety margin. */
function deadlineOf(context: Context, marginMs: number): number {
  return Date.now() + context.getRemainingTimeInMillis() - marginMs;
}

/**
 * Logs carry the Lambda context and a fresh set of keys per invocation; the IM call and dead-letter counts
 * are moved into the metrics buffer before Powertools publishes it (middy runs `after` hooks in reverse order).
 */
function withTelemetry<E, R>(s: CoreServices, run: (event: E, context: Context) => Promise<R>) {
  const flush = (): void => {
    s.imCalls.flush();
    s.deadLetterCounts.flush();
  };
  return middy<E, R>()
    .use(injectLambdaContext(s.logger, { resetKeys: true }))
    .use(logMetrics(s.metrics))
    .use({ after: flush, onError: flush })
    .handler(run);
}

/** Logs why a webhook was not accepted: the answer never says which authentication check failed; the log does. */
function logRefusal(s: ApiServices, error: unknown, answer: StoredAnswer): void {
  if (answer.statusCode >= 500) s.logger.error('webhook failed', { error: describe(error), status: answer.statusCode });
  else
    s.logger.warn('webhook refused', {
      error: describe(error),
      status: answer.statusCode,
      ...(error instanceof WebhookAuthError ? { reason: error.reason } : {}),
    });
}

/** The work of one fresh webhook: its users into their lanes (and the early write), as an answer to store or not. */
async function acceptAndAnswer(
  s: ApiServices,
  input: { requestId: string; key: string; read: Promise<WebhookRead>; deadlineMs: number },
): Promise<{ answer: StoredAnswer; store: boolean }> {
  try {
    if (s.lanes === undefined)
      throw new LanesUnavailableError('no lanes queue is configured (LANES_QUEUE_URL)', { accepted: 0, pending: 0 });
    const result = await acceptWebhook(
      {
        writer: s.im,
        attrNames: s.attrNames,
        lanes: s.lanes,
        laneCount: s.config.lanes.count,
        inlineChunks: s.config.apiInlineChunks,
        inlineCapacity: () => s.limiter.startsWithin(s.config.apiInlineWaitMs),
        inlineWaitMs: s.config.apiInlineWaitMs,
        inlineGate: s.inlineGate,
      },
      input,
    );
    s.metrics.addMetric(METRIC.usersReceived, MetricUnit.Count, result.received);
    s.metrics.addMetric(METRIC.usersApplied, MetricUnit.Count, result.applied);
    s.metrics.addMetric(METRIC.usersQueued, MetricUnit.Count, result.accepted);
    s.metrics.addMetric(METRIC.usersRejected, MetricUnit.Count, result.rejected.length);
    const { received, merged, accepted, applied, queued } = result;
    s.logger.info('webhook processed', {
      received,
      merged,
      accepted,
      applied,
      queued,
      rejected: result.rejected.length,
    });
    const answer = acceptedResponse(result);
    // Only answers the caller may keep are stored: a re-send after anything else runs again.
    return { answer, store: answer.statusCode >= 200 && answer.statusCode < 300 };
  } catch (error) {
    const answer = errorResponse(error, input.requestId);
    logRefusal(s, error, answer);
    return { answer, store: false };
  }
}

/** Whether the request came by the tags route (`POST /v1/user-tags`) rather than the attributes route. */
const isTagsRoute = (event: APIGatewayProxyEventV2): boolean =>
  event.routeKey.endsWith('/v1/user-tags') || event.rawPath.endsWith('/v1/user-tags');

/** `POST /v1/user-attrs` and `POST /v1/user-tags` (HTTP API, payload 2.0). */
export function createApiHandler(s: ApiServices) {
  return withTelemetry<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(s, async (event, context) => {
    const requestId = event.requestContext.requestId;
    s.logger.appendKeys({ requestId });
    try {
      const request = await authenticateRequest(event, {
        maxBodyBytes: s.config.maxBodyBytes,
        auth: s.config.webhookAuth,
        authenticator: s.webhookAuth,
        webhookSecret: s.webhookSecret,
      });
      // Without a key nothing identifies a re-send: a fresh id keeps SQS from deduplicating distinct requests.
      const key = request.key?.id ?? randomUUID();
      const laneCount = s.config.lanes.count;
      const readNow = (): Promise<WebhookRead> =>
        isTagsRoute(event)
          ? Promise.resolve().then(() => readTagsWebhook({ laneCount }, key, parseJsonBody(event, request.rawBody)))
          : readWebhook({ attrNames: s.attrNames, laneCount }, key, parseJsonBody(event, request.rawBody));
      // With the names known without asking IM, the body is read (CPU only, nothing written) while the request's
      // idempotency record is being written: a turn of the event loop first, so that request is on its way.
      // Otherwise it is read in the work, so a re-send answered from the store asks IM nothing.
      const early = request.fresh && s.attrNames.known() ? setImmediate().then(readNow) : undefined;
      // A request answered from the store never uses the reading: its failure must not go unhandled.
      early?.catch(() => undefined);
      const deadlineMs = deadlineOf(context, s.config.deadlineMarginMs);
      return await answerOnce(
        s.idempotency,
        { key: request.key, fresh: request.fresh, remainingMs: context.getRemainingTimeInMillis() },
        () => acceptAndAnswer(s, { requestId, key, read: early ?? readNow(), deadlineMs }),
      );
    } catch (error) {
      const answer = errorResponse(error, requestId);
      logRefusal(s, error, answer);
      return answer;
    }
  });
}

/** The queue name at the end of an SQS ARN or URL. */
const queueName = (arnOrUrl: string): string => arnOrUrl.split(/[:/]/).pop() ?? '';

/**
 * The worker: records of the lanes queue are applied in lane order; records of the intake queue are moved
 * into lanes. Partial batch responses (ReportBatchItemFailures), with AWS's FIFO rule: a failed record is
 * reported with every later record of its message group.
 */
export function createWorkerHandler(s: WorkerServices) {
  return withTelemetry<SQSEvent, SQSBatchResponse>(s, async (event, context) => {
    const { deadLetters, lanes, lanesRedelivery } = s;
    if (deadLetters === undefined || lanes === undefined || lanesRedelivery === undefined)
      throw new Error('the worker needs LANES_QUEUE_URL and DLQ_URL');
    const records = event.Records.map(toQueueRecord);
    const source = event.Records[0]?.eventSourceARN ?? '';
    const intakeUrl = s.config.sqs.intakeQueueUrl;
    const failedIds =
      intakeUrl !== undefined && s.intakeRedelivery !== undefined && queueName(source) === queueName(intakeUrl)
        ? await moveIntake(s, records, { lanes, deadLetters, redelivery: s.intakeRedelivery })
        : await applyLanes(
            s,
            records,
            { deadLetters, redelivery: lanesRedelivery },
            deadlineOf(context, s.config.deadlineMarginMs),
          );
    return { batchItemFailures: failedIds.map((itemIdentifier) => ({ itemIdentifier })) };
  });
}

/**
 * A worker batch's metrics: users received, moved (queued into lanes for the intake, applied for the lanes) and
 * dead-lettered; and a warning when the failed records' backoff could not be set.
 */
function recordBatch(
  s: WorkerServices,
  kind: 'intake' | 'lane',
  moved: number,
  outcome: { readonly received: number; readonly deadLettered: number; readonly redeliveryError?: unknown },
): void {
  s.metrics.addMetric(METRIC.usersReceived, MetricUnit.Count, outcome.received);
  s.metrics.addMetric(kind === 'intake' ? METRIC.usersQueued : METRIC.usersApplied, MetricUnit.Count, moved);
  s.metrics.addMetric(METRIC.usersDeadLettered, MetricUnit.Count, outcome.deadLettered);
  if (outcome.redeliveryError !== undefined)
    s.logger.warn(`could not set the retry delay of failed ${kind} records`, {
      error: describe(outcome.redeliveryError),
    });
}

/** An intake batch: producers' messages moved into lanes. Returns the ids of the records that failed. */
async function moveIntake(
  s: WorkerServices,
  records: readonly QueueRecord[],
  ports: Pick<RelaneDeps, 'lanes' | 'deadLetters' | 'redelivery'>,
): Promise<readonly string[]> {
  const outcome = await relaneIntake(
    {
      ...ports,
      attrNames: s.attrNames,
      laneCount: s.config.lanes.count,
      retryWindowMs: s.config.lanes.intakeRetryWindowMs,
    },
    records,
  );
  recordBatch(s, 'intake', outcome.laned, outcome);
  const { failedIds, laned, deadLettered } = outcome;
  s.logger.info('intake batch moved into lanes', {
    records: records.length,
    failed: failedIds.length,
    laned,
    deadLettered,
  });
  return failedIds;
}

/** A lanes batch, and what the invocation gathers beyond it, applied to IM. Returns the batch's failed ids. */
async function applyLanes(
  s: WorkerServices,
  records: readonly QueueRecord[],
  ports: Pick<LanesDeps, 'deadLetters' | 'redelivery'>,
  deadlineMs: number,
): Promise<readonly string[]> {
  // The lane-slot floor holds the lanes of every round's records for the rest of the invocation.
  const ends: (() => void)[] = [];
  const outcome = await processLanes(
    {
      ...ports,
      writer: s.im,
      attrNames: s.attrNames,
      outageToleranceMs: s.config.lanes.outageToleranceMs,
      stuckLaneToleranceMs: s.config.lanes.stuckLaneToleranceMs,
      retryMaxSeconds: s.config.lanes.retryMaxSeconds,
      ...(s.laneSource === undefined ? {} : { source: s.laneSource }),
      budgetIdle: () => s.limiter.startsWithin(BUDGET_IDLE_WITHIN_MS) > 0,
      expectCalls: (calls) => s.limiter.expect?.(calls),
      onRound: (round) => ends.push(s.lanesInvocation.begin(lanesOf(round))),
      gather: s.config.gather,
    },
    records,
    deadlineMs,
  ).finally(() => {
    for (const end of ends) end();
  });
  recordBatch(s, 'lane', outcome.applied, outcome);
  s.logger.info('lane batch processed', {
    records: records.length,
    gathered: outcome.gathered,
    rounds: outcome.rounds,
    receives: outcome.receives,
    failed: outcome.failedIds.length + outcome.gatheredFailedIds.length,
    undeleted: outcome.undeleted,
    calls: outcome.calls,
    applied: outcome.applied,
    deadLettered: outcome.deadLettered,
  });
  return outcome.failedIds;
}
