/**
 * The composition root: builds every adapter once per Lambda copy (cold start) from the configuration,
 * so warm invocations reuse connections, caches, the UserSig and the rate limiter.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { FixedAttrNames, LearnedAttrNames, type AttrNameSource } from '../attr-names/registered-names.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { SecretsManagerSource } from '../credentials/secrets-manager-source.ts';
import { StaticCredentialSource } from '../credentials/static-source.ts';
import type { CredentialSource } from '../credentials/types.ts';
import { ImClient } from '../im/client.ts';
import { resolveEndpoint } from '../im/regions.ts';
import { CountedDeadLetters, DeadLetterRecorder } from '../observability/dead-letter-metrics.ts';
import { createLogger, createMetrics, ImCallRecorder } from '../observability/telemetry.ts';
import { RateLimiter } from '../pacing/rate-limiter.ts';
import { DynamoDbIdempotency } from '../idempotency/dynamodb-idempotency.ts';
import { SqsDeadLetters } from '../queue/sqs-dead-letters.ts';
import { SqsLanes } from '../queue/sqs-lanes.ts';
import { SqsRedelivery } from '../queue/sqs-redelivery.ts';
import type { DeadLetters, Idempotency } from '../usecases/ports.ts';
import { AdminSigCache } from '../usersig/admin-sig-cache.ts';
import { WebhookAuthenticator } from '../webhook/webhook-authenticator.ts';

export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly imCalls: ImCallRecorder;
  /** Dead letters by rule, counted as the queue takes them. */
  readonly deadLetterCounts: DeadLetterRecorder;
  readonly credentials: CredentialSource;
  readonly im: ImClient;
  /** This copy's share of the fleet's IM budget. */
  readonly limiter: RateLimiter;
  readonly attrNames: AttrNameSource;
  /** The lanes queue; undefined only when no queue is configured (the API then refuses with 503). */
  readonly lanes: SqsLanes | undefined;
  readonly lanesRedelivery: SqsRedelivery | undefined;
  readonly intakeRedelivery: SqsRedelivery | undefined;
  readonly deadLetters: DeadLetters | undefined;
  /** Undefined without a table: re-deliveries are then applied again (lanes still deduplicate for 5 minutes). */
  readonly idempotency: Idempotency | undefined;
  readonly webhookAuth: WebhookAuthenticator;
}

/** AWS SDK clients can be handed in (tests mock them at the SDK boundary); otherwise they are made from config. */
export interface ServiceOverrides {
  readonly secretsManager?: SecretsManagerClient;
  readonly sqs?: SQSClient;
  readonly dynamodb?: DynamoDBClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export function createServices(config: Config, overrides: ServiceOverrides = {}): Services {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? createMetrics();
  const imCalls = new ImCallRecorder(metrics);
  const deadLetterCounts = new DeadLetterRecorder(metrics);
  const credentials: CredentialSource =
    config.credentials.source === 'secrets-manager'
      ? new SecretsManagerSource({
          client: overrides.secretsManager ?? new SecretsManagerClient({ region: config.sqs.region }),
          secretId: config.credentials.secretId,
          cacheTtlSeconds: config.credentials.cacheTtlSeconds,
        })
      : new StaticCredentialSource(config.credentials);
  // The limiter paces this copy to its share of the fleet budget; fractional shares are spaced evenly.
  const limiter = new RateLimiter({ ratePerSecond: config.callsPerSecond, safetyMarginMs: config.im.pacingMarginMs });
  const im = new ImClient({
    baseUrl: resolveEndpoint(config.im),
    credentials,
    sigProvider: new AdminSigCache(),
    limiter,
    maxInFlight: config.im.maxInFlight,
    timeoutMs: config.im.timeoutMs,
    retry: { maxAttempts: config.im.retryMaxAttempts, maxTotalMs: config.im.retryMaxTotalMs },
    onAttempt: imCalls.record,
  });
  const attrNames: AttrNameSource =
    config.attrNames !== undefined
      ? new FixedAttrNames(config.attrNames)
      : new LearnedAttrNames({
          fetch: () => im.getAttrNames(),
          ttlSeconds: config.attrNamesCacheTtlSeconds,
          onError: (error) => logger.warn('could not read the registered attribute names from IM; going on without an allow-list', { error: describe(error) }),
        });
  const { lanesQueueUrl, intakeQueueUrl, dlqUrl, endpoint, region } = config.sqs;
  const sqs =
    lanesQueueUrl === undefined && intakeQueueUrl === undefined && dlqUrl === undefined
      ? undefined
      : (overrides.sqs ?? new SQSClient({ region, ...(endpoint === undefined ? {} : { endpoint }) }));
  const on = <T>(url: string | undefined, make: (client: SQSClient, queueUrl: string) => T): T | undefined =>
    sqs === undefined || url === undefined ? undefined : make(sqs, url);
  const { idempotency } = config;
  return {
    config,
    logger,
    metrics,
    imCalls,
    deadLetterCounts,
    credentials,
    im,
    limiter,
    attrNames,
    lanes: on(lanesQueueUrl, (client, queueUrl) => new SqsLanes({ client, queueUrl })),
    lanesRedelivery: on(lanesQueueUrl, (client, queueUrl) => new SqsRedelivery({ client, queueUrl })),
    intakeRedelivery: on(intakeQueueUrl, (client, queueUrl) => new SqsRedelivery({ client, queueUrl })),
    deadLetters: on(dlqUrl, (client, queueUrl) => new CountedDeadLetters(new SqsDeadLetters({ client, queueUrl }), deadLetterCounts)),
    idempotency:
      idempotency === undefined
        ? undefined
        : new DynamoDbIdempotency({
            client:
              overrides.dynamodb ??
              // Short timeouts and few SDK retries: a slow table must not eat the webhook's time.
              new DynamoDBClient({ region, maxAttempts: 2, ...(idempotency.endpoint === undefined ? {} : { endpoint: idempotency.endpoint }) }),
            tableName: idempotency.tableName,
            ttlSeconds: idempotency.ttlSeconds,
          }),
    webhookAuth: new WebhookAuthenticator(),
  };
}

/** An error's name and message for logs: messages in this code base never carry secrets or signed URLs. */
export function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'unknown', message: String(error) };
}

let current: Services | undefined;

/** The services of this Lambda copy, built from `process.env` on first use. */
export function services(): Services {
  current ??= createServices(loadConfig());
  return current;
}

/** Replaces the services of this process (tests and the local runner). */
export function setServices(next: Services | undefined): void {
  current = next;
}
