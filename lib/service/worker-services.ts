/**
 * The worker function's services: the shared core, the queues' redelivery and the dead-letter queue.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig, type Config } from '../config/config.ts';
import { CountedDeadLetters } from '../observability/dead-letter-metrics.ts';
import { SqsDeadLetters } from '../queue/sqs-dead-letters.ts';
import { SqsLaneSource } from '../queue/sqs-lane-source.ts';
import { SqsRedelivery } from '../queue/sqs-redelivery.ts';
import type { DeadLetters, LaneSource } from '../core/ports.ts';
import { createCoreServices, type CoreServices, type ServiceOverrides } from './services.ts';

export interface WorkerParts {
  readonly lanesRedelivery: SqsRedelivery | undefined;
  readonly intakeRedelivery: SqsRedelivery | undefined;
  readonly deadLetters: DeadLetters | undefined;
  /** The lanes read by the worker itself, beyond its event batch. */
  readonly laneSource: LaneSource | undefined;
}

export type WorkerServices = CoreServices & WorkerParts;

export function workerParts(core: CoreServices): WorkerParts {
  const { sqs, config, deadLetterCounts } = core;
  const on = <T>(url: string | undefined, make: (client: SQSClient, queueUrl: string) => T): T | undefined =>
    sqs === undefined || url === undefined ? undefined : make(sqs, url);
  return {
    lanesRedelivery: on(config.sqs.lanesQueueUrl, (client, queueUrl) => new SqsRedelivery({ client, queueUrl })),
    intakeRedelivery: on(config.sqs.intakeQueueUrl, (client, queueUrl) => new SqsRedelivery({ client, queueUrl })),
    deadLetters: on(
      config.sqs.dlqUrl,
      (client, queueUrl) => new CountedDeadLetters(new SqsDeadLetters({ client, queueUrl }), deadLetterCounts),
    ),
    laneSource: on(config.sqs.lanesQueueUrl, (client, queueUrl) => new SqsLaneSource({ client, queueUrl })),
  };
}

export function createWorkerServices(config: Config, overrides: ServiceOverrides = {}): WorkerServices {
  const core = createCoreServices(config, overrides);
  return { ...core, ...workerParts(core) };
}

let current: WorkerServices | undefined;

/** The services of this worker copy, built from `process.env` on first use. */
export function workerServices(): WorkerServices {
  current ??= createWorkerServices(loadConfig());
  return current;
}
