/**
 * The composition root: builds every adapter once per Lambda copy (cold start) from the configuration,
 * so warm invocations reuse connections, caches, the UserSig and the rate limiter.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
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
import { createLogger, createMetrics, ImCallRecorder } from '../observability/telemetry.ts';
import { RateLimiter } from '../pacing/rate-limiter.ts';
import { QueuePublisher } from '../queue/queue-publisher.ts';
import { AdminSigCache } from '../usersig/admin-sig-cache.ts';
import { WebhookAuthenticator } from '../webhook/webhook-authenticator.ts';

export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly imCalls: ImCallRecorder;
  readonly credentials: CredentialSource;
  readonly im: ImClient;
  /** This copy's share of the fleet's IM budget. */
  readonly limiter: RateLimiter;
  readonly attrNames: AttrNameSource;
  readonly overflow: QueuePublisher | undefined;
  readonly deadLetters: QueuePublisher | undefined;
  readonly webhookAuth: WebhookAuthenticator;
}

/** AWS SDK clients can be handed in (tests mock them at the SDK boundary); otherwise they are made from config. */
export interface ServiceOverrides {
  readonly secretsManager?: SecretsManagerClient;
  readonly sqs?: SQSClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export function createServices(config: Config, overrides: ServiceOverrides = {}): Services {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? createMetrics();
  const imCalls = new ImCallRecorder(metrics);
  const credentials: CredentialSource =
    config.credentials.source === 'secrets-manager'
      ? new SecretsManagerSource({
          client: overrides.secretsManager ?? new SecretsManagerClient({ region: config.sqs.region }),
          secretId: config.credentials.secretId,
          cacheTtlSeconds: config.credentials.cacheTtlSeconds,
        })
      : new StaticCredentialSource(config.credentials);
  // The limiter paces this copy to its share of the fleet budget; fractional shares are spaced evenly.
  const limiter = new RateLimiter({ ratePerSecond: config.callsPerSecond });
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
  const sqs =
    config.sqs.overflowQueueUrl === undefined && config.sqs.dlqUrl === undefined
      ? undefined
      : (overrides.sqs ?? new SQSClient({ region: config.sqs.region, ...(config.sqs.endpoint === undefined ? {} : { endpoint: config.sqs.endpoint }) }));
  const publisher = (queueUrl: string | undefined) => (sqs === undefined || queueUrl === undefined ? undefined : new QueuePublisher({ client: sqs, queueUrl }));
  return {
    config,
    logger,
    metrics,
    imCalls,
    credentials,
    im,
    limiter,
    attrNames,
    overflow: publisher(config.sqs.overflowQueueUrl),
    deadLetters: publisher(config.sqs.dlqUrl),
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
