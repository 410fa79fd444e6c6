/**
 * Structured logs and CloudWatch EMF metrics (Powertools): one logger and one metrics buffer per Lambda copy.
 * Metrics are buffered during an invocation and flushed once at its end, so a busy worker writes a few
 * EMF lines per invocation, not one per IM call.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AttemptEvent } from '../im/types.ts';
import type { LogLevel } from '../config/config.ts';

export const SERVICE_NAME = 'tim-attr-gateway';

/** Metric names, as they appear in CloudWatch (docs/operating.md says what each means and which alarms to set). */
export const METRIC = {
  usersReceived: 'UsersReceived',
  usersApplied: 'UsersApplied',
  usersQueued: 'UsersQueued',
  usersRejected: 'UsersRejected',
  usersDeadLettered: 'UsersDeadLettered',
  imCalls: 'ImCalls',
  imRetries: 'ImRetries',
  imRateLimited: 'ImRateLimited',
  /** Answers that blame the gateway's configuration (not admin, wrong app or region): the lanes wait for a fix. */
  imConfigurationErrors: 'ImConfigurationErrors',
  imLatency: 'ImLatency',
  deadLetters: 'DeadLetters',
} as const;

/**
 * Dimension names, as they appear in CloudWatch. Powertools adds `service` (POWERTOOLS_SERVICE_NAME) to every
 * metric; `ErrorCode` and `Rule` are added to `ImCalls` and `DeadLetters` only.
 */
export const DIMENSION = {
  service: 'service',
  errorCode: 'ErrorCode',
  rule: 'Rule',
} as const;

export function createLogger(logLevel: LogLevel = 'INFO'): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME, logLevel });
}

export function createMetrics(): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TimAttrGateway',
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
  });
}

/**
 * Counts IM attempts by ErrorCode during an invocation and writes them at flush: one EMF metric per distinct
 * code (dimension `ErrorCode`), plus retries, rate-limit answers and latency. Each `ImCalls` value is also
 * published under `service` alone, so the total of calls is one explicit metric (the denominator of the
 * rate-limited share) rather than a sum over a search.
 */
export class ImCallRecorder {
  readonly #metrics: Metrics;
  #byCode = new Map<number, number>();
  #retries = 0;
  #rateLimited = 0;
  #configuration = 0;
  #latencies: number[] = [];

  constructor(metrics: Metrics) {
    this.#metrics = metrics;
  }

  readonly record = (event: AttemptEvent): void => {
    this.#byCode.set(event.errorCode, (this.#byCode.get(event.errorCode) ?? 0) + 1);
    if (event.attempt > 1) this.#retries++;
    if (event.errorClass === 'rate-limited') this.#rateLimited++;
    if (event.errorClass === 'configuration') this.#configuration++;
    this.#latencies.push(event.latencyMs);
  };

  /** Moves what was counted into the metrics buffer (the caller publishes it). */
  flush(): void {
    for (const [code, count] of this.#byCode) {
      const single = this.#metrics.singleMetric();
      single.addDimension(DIMENSION.errorCode, String(code));
      // An empty dimension set is published as the default dimensions alone: [service].
      single.addDimensions({});
      single.addMetric(METRIC.imCalls, MetricUnit.Count, count);
    }
    if (this.#retries > 0) this.#metrics.addMetric(METRIC.imRetries, MetricUnit.Count, this.#retries);
    if (this.#rateLimited > 0) this.#metrics.addMetric(METRIC.imRateLimited, MetricUnit.Count, this.#rateLimited);
    if (this.#configuration > 0)
      this.#metrics.addMetric(METRIC.imConfigurationErrors, MetricUnit.Count, this.#configuration);
    // Powertools writes a line per 100 values of one metric (EMF's limit), so every latency is kept.
    for (const ms of this.#latencies) this.#metrics.addMetric(METRIC.imLatency, MetricUnit.Milliseconds, ms);
    this.#byCode = new Map();
    this.#retries = 0;
    this.#rateLimited = 0;
    this.#configuration = 0;
    this.#latencies = [];
  }
}
