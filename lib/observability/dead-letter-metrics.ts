/**
 * Dead letters by rule as a metric: the operator sees why users are being dead-lettered without reading the
 * queue. Letters are counted once the dead-letter queue took them, as the worker composed them (a letter SQS
 * needed split in two still counts once), and written at the invocation's end like the IM call counts.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { DeadLetter, DeadLetters } from '../core/ports.ts';
import { DIMENSION, METRIC } from './telemetry.ts';

export class DeadLetterRecorder {
  readonly #metrics: Metrics;
  #byRule = new Map<string, number>();

  constructor(metrics: Metrics) {
    this.#metrics = metrics;
  }

  record(letters: readonly DeadLetter[]): void {
    for (const { why } of letters) this.#byRule.set(why.rule, (this.#byRule.get(why.rule) ?? 0) + 1);
  }

  /** Moves what was counted into the metrics buffer (the caller publishes it): one metric per rule. */
  flush(): void {
    for (const [rule, count] of this.#byRule) {
      const single = this.#metrics.singleMetric();
      single.addDimension(DIMENSION.rule, rule);
      single.addMetric(METRIC.deadLetters, MetricUnit.Count, count);
    }
    this.#byRule = new Map();
  }
}

/** A dead-letter queue that counts what it took; a send that throws counts nothing (the records come back). */
export class CountedDeadLetters implements DeadLetters {
  readonly #inner: DeadLetters;
  readonly #recorder: DeadLetterRecorder;

  constructor(inner: DeadLetters, recorder: DeadLetterRecorder) {
    this.#inner = inner;
    this.#recorder = recorder;
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    await this.#inner.send(letters);
    this.#recorder.record(letters);
  }
}
