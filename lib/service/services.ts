/**
 * The composition root's shared part: builds the adapters both functions use once per Lambda copy (cold
 * start) from the configuration, so warm invocations reuse connections, caches, the UserSig and the pacing.
 * Each function adds its own parts in its own module (api-services.ts, worker-services.ts), so neither
 * bundle carries, or initialises, what only the other one uses.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { FixedAttrNames, LearnedAttrNames } from '../attr-names/registered-names.ts';
import type { AttrNames } from '../core/ports.ts';
import type { Config } from '../config/config.ts';
import { SecretsManagerSource } from '../credentials/secrets-manager-source.ts';
import { StaticCredentialSource } from '../credentials/static-source.ts';
import type { CredentialSource } from '../credentials/types.ts';
import { DynamoDbSlotLedger } from '../pacing/dynamodb-slot-ledger.ts';
import { fleetPacing, type LanesInvocation } from '../pacing/pacer-for.ts';
import { IM_COMMANDS, ImClient } from '../im/client.ts';
import { resolveEndpoint } from '../im/regions.ts';
import { DeadLetterRecorder } from '../observability/dead-letter-metrics.ts';
import { createLogger, createMetrics, ImCallRecorder } from '../observability/telemetry.ts';
import type { CallPacer } from '../pacing/call-pacer.ts';
import { SqsLanes } from '../queue/sqs-lanes.ts';
import { AdminSigCache } from '../usersig/admin-sig-cache.ts';

/** What both functions use; each function adds its own parts (api-services.ts, worker-services.ts). */
export interface CoreServices {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly imCalls: ImCallRecorder;
  /** Dead letters by rule, counted as the queue takes them. */
  readonly deadLetterCounts: DeadLetterRecorder;
  readonly credentials: CredentialSource;
  readonly im: ImClient;
  /** This copy's pacing of `im_set_attr`: its floor and the shared grid, or its static share. */
  readonly limiter: CallPacer;
  /** The worker brackets each lanes invocation with it: the fleet's floor is open only for the lanes one holds. */
  readonly lanesInvocation: LanesInvocation;
  readonly attrNames: AttrNames;
  /** The Secrets Manager client the credentials are read with; undefined for credentials given in the environment. */
  readonly secretsManager: SecretsManagerClient | undefined;
  /** The lanes queue; undefined only when no queue is configured (the API then refuses with 503). */
  readonly lanes: SqsLanes | undefined;
  /** The SQS client of the configured queues; undefined when none is configured. */
  readonly sqs: SQSClient | undefined;
}

/** AWS SDK clients can be handed in (tests mock them at the SDK boundary); otherwise they are made from config. */
export interface ServiceOverrides {
  readonly secretsManager?: SecretsManagerClient;
  readonly sqs?: SQSClient;
  readonly dynamodb?: DynamoDBClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export function createCoreServices(config: Config, overrides: ServiceOverrides = {}): CoreServices {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? createMetrics();
  const imCalls = new ImCallRecorder(metrics);
  const deadLetterCounts = new DeadLetterRecorder(metrics);
  const { credentials, secretsManager } = credentialsOf(config, overrides);
  const { pacerFor, lanesInvocation } = pacing(config, overrides.dynamodb, (error) =>
    logger.warn("the shared IM budget is out of reach; going on with this copy's floor", { error: describe(error) }),
  );
  const limiter = pacerFor(IM_COMMANDS.setAttr);
  const im = new ImClient({
    baseUrl: resolveEndpoint(config.im),
    credentials,
    sigProvider: new AdminSigCache(),
    pacerFor,
    maxInFlight: config.im.maxInFlight,
    timeoutMs: config.im.timeoutMs,
    retry: { maxAttempts: config.im.retryMaxAttempts, maxTotalMs: config.im.retryMaxTotalMs },
    onAttempt: imCalls.record,
  });
  const attrNames = attrNamesOf(config, im, logger);
  const { lanesQueueUrl, intakeQueueUrl, dlqUrl, endpoint, region } = config.sqs;
  const sqs =
    lanesQueueUrl === undefined && intakeQueueUrl === undefined && dlqUrl === undefined
      ? undefined
      : (overrides.sqs ?? new SQSClient({ region, ...(endpoint === undefined ? {} : { endpoint }) }));
  return {
    config,
    logger,
    metrics,
    imCalls,
    deadLetterCounts,
    credentials,
    im,
    limiter,
    lanesInvocation,
    attrNames,
    secretsManager,
    lanes:
      sqs === undefined || lanesQueueUrl === undefined
        ? undefined
        : new SqsLanes({ client: sqs, queueUrl: lanesQueueUrl }),
    sqs,
  };
}

/** The IM credentials: from Secrets Manager (with its client, for the webhook secret too), or given in the environment. */
function credentialsOf(
  config: Config,
  overrides: ServiceOverrides,
): { credentials: CredentialSource; secretsManager: SecretsManagerClient | undefined } {
  const { credentials: given } = config;
  if (given.source !== 'secrets-manager')
    return { credentials: new StaticCredentialSource(given), secretsManager: undefined };
  const secretsManager = overrides.secretsManager ?? new SecretsManagerClient({ region: config.sqs.region });
  const credentials = new SecretsManagerSource({
    client: secretsManager,
    secretId: given.secretId,
    cacheTtlSeconds: given.cacheTtlSeconds,
  });
  return { credentials, secretsManager };
}

/** The app's registered names: given in the configuration, or learned from IM and cached. */
function attrNamesOf(config: Config, im: ImClient, logger: Logger): AttrNames {
  if (config.attrNames !== undefined) return new FixedAttrNames(config.attrNames);
  return new LearnedAttrNames({
    fetch: () => im.getAttrNames(),
    ttlSeconds: config.attrNamesCacheTtlSeconds,
    onError: (error) =>
      logger.warn('could not read the registered attribute names from IM; going on without an allow-list', {
        error: describe(error),
      }),
  });
}

/** The copy's pacing (lib/pacing/pacer-for.ts), on the fleet's grid when a budget table is configured. */
function pacing(config: Config, dynamodb: DynamoDBClient | undefined, onLedgerError: (error: unknown) => void) {
  const { grid } = config;
  const ledger =
    grid === undefined
      ? undefined
      : new DynamoDbSlotLedger({
          client:
            dynamodb ??
            // A lease must never hold up calls: a short timeout and no SDK retries (the pacer backs off itself).
            new DynamoDBClient({
              region: config.sqs.region,
              maxAttempts: 1,
              requestHandler: { connectionTimeout: 250, requestTimeout: 250 },
              ...(grid.endpoint === undefined ? {} : { endpoint: grid.endpoint }),
            }),
          tableName: grid.tableName,
        });
  return fleetPacing({
    grid:
      grid === undefined || ledger === undefined
        ? undefined
        : { ledger, gridRate: grid.gridRate, workerFloorRate: grid.workerFloorRate },
    callsPerSecond: config.callsPerSecond,
    safetyMarginMs: config.im.pacingMarginMs,
    // Every write command has a grid of its own at IM's limit (IM limits each command separately).
    sharedCommands: [
      IM_COMMANDS.setAttr,
      IM_COMMANDS.removeAttr,
      IM_COMMANDS.addTag,
      IM_COMMANDS.removeTag,
      IM_COMMANDS.removeAllTags,
    ],
    workerFloor: config.role === 'worker' ? { laneCount: config.lanes.count } : undefined,
    onLedgerError,
  });
}

/** An error's name and message for logs: messages in this code base never carry secrets or signed URLs. */
export function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'unknown', message: String(error) };
}
