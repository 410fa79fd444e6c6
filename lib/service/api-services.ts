/**
 * The API function's services: the shared core, the idempotency store and the webhook authenticator.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WebhookSecretSource } from '../credentials/webhook-secret-source.ts';
import { EarlyWriteGate } from '../core/usecases/early-write-gate.ts';
import { loadConfig, type Config } from '../config/config.ts';
import { DynamoDbIdempotency } from '../idempotency/dynamodb-idempotency.ts';
import type { Idempotency } from '../core/ports.ts';
import { WebhookAuthenticator } from '../webhook/webhook-authenticator.ts';
import { createCoreServices, type CoreServices, type ServiceOverrides } from './services.ts';

export interface ApiParts {
  /** Undefined without a table: re-deliveries are then applied again (lanes still deduplicate for 5 minutes). */
  readonly idempotency: Idempotency | undefined;
  readonly webhookAuth: WebhookAuthenticator;
  /** The `whsec_…` secret webhooks are signed with: its own secret when configured, else the credentials'. */
  readonly webhookSecret: () => Promise<string | undefined>;
  /** The early write's idle-budget gate of this copy. */
  readonly inlineGate: EarlyWriteGate;
}

export type ApiServices = CoreServices & ApiParts;

/**
 * @param core - the shared part's credentials and Secrets Manager client: the webhook secret is read with the same
 *   client (one SDK client per copy, not two at cold start), or taken from the credentials when it has no secret of its own.
 */
export function apiParts(
  config: Config,
  core: Pick<CoreServices, 'credentials' | 'secretsManager'>,
  overrides: ServiceOverrides = {},
): ApiParts {
  const { idempotency, webhookSecretId } = config;
  const cacheTtlSeconds =
    config.credentials.source === 'secrets-manager' ? config.credentials.cacheTtlSeconds : undefined;
  const client = (): SecretsManagerClient =>
    core.secretsManager ?? overrides.secretsManager ?? new SecretsManagerClient({ region: config.sqs.region });
  const ownSecret =
    webhookSecretId === undefined
      ? undefined
      : new WebhookSecretSource({
          client: client(),
          secretId: webhookSecretId,
          ...(cacheTtlSeconds === undefined ? {} : { cacheTtlSeconds }),
        });
  return {
    inlineGate: new EarlyWriteGate(),
    webhookSecret:
      ownSecret === undefined ? async () => (await core.credentials.get()).webhookSecret : () => ownSecret.get(),
    idempotency:
      idempotency === undefined
        ? undefined
        : new DynamoDbIdempotency({
            client:
              overrides.dynamodb ??
              // Few SDK retries: a slow table must not eat the webhook's time.
              new DynamoDBClient({
                region: config.sqs.region,
                maxAttempts: 2,
                ...(idempotency.endpoint === undefined ? {} : { endpoint: idempotency.endpoint }),
              }),
            tableName: idempotency.tableName,
            ttlSeconds: idempotency.ttlSeconds,
          }),
    webhookAuth: new WebhookAuthenticator(),
  };
}

export function createApiServices(config: Config, overrides: ServiceOverrides = {}): ApiServices {
  const core = createCoreServices(config, overrides);
  return { ...core, ...apiParts(config, core, overrides) };
}

let current: ApiServices | undefined;

/** The services of this API copy, built from `process.env` on first use. */
export function apiServices(): ApiServices {
  current ??= createApiServices(loadConfig());
  return current;
}
