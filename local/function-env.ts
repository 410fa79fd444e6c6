import DEFAULTS from '../lib/config/defaults.json' with { type: 'json' };
import type { LocalSettings } from '../lib/config/local-settings.ts';
import { resourceNames } from '../lib/config/resource-names.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** What `npm start` started, for the functions to find it. */
export interface LocalParts {
  readonly imBaseUrl: string;
  readonly sqsEndpoint: string;
  readonly queues: {
    readonly lanesQueueUrl: string;
    readonly intakeQueueUrl: string;
    readonly deadLetterQueueUrl: string;
  };
  readonly tables: { readonly tableName: string; readonly endpoint: string };
  readonly credentials: Readonly<Record<string, string>>;
}

/**
 * The environment both local functions run with (the API under serverless offline, the worker under the pollers),
 * and the inherited settings it ignores. SECRET_ID and IM_REGION would send a local run to Secrets Manager and to
 * Tencent: never inherited. The metrics' `service` is the stage's, as serverless.yml gives the API, so both
 * functions' metrics land under one name.
 */
export function localFunctionEnv(
  inheritedEnv: Env,
  settings: LocalSettings,
  parts: LocalParts,
): { readonly env: Record<string, string | undefined>; readonly ignored: readonly string[] } {
  const { SECRET_ID: secretId, IM_REGION: imRegion, ...inherited } = inheritedEnv;
  const names = resourceNames(settings.stage);
  const env = {
    ...inherited,
    ...parts.credentials,
    IM_BASE_URL: parts.imBaseUrl,
    LANES_QUEUE_URL: parts.queues.lanesQueueUrl,
    INTAKE_QUEUE_URL: parts.queues.intakeQueueUrl,
    DLQ_URL: parts.queues.deadLetterQueueUrl,
    SQS_ENDPOINT: parts.sqsEndpoint,
    IDEMPOTENCY_TABLE: parts.tables.tableName,
    BUDGET_TABLE: names.budgetTable,
    DYNAMODB_ENDPOINT: parts.tables.endpoint,
    AWS_REGION: settings.awsRegion,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    WORKER_MAX_CONCURRENCY: String(settings.workerProcesses),
    // Reserved concurrency must cover the lanes pollers (docs/fleet-budget.md).
    WORKER_RESERVED_CONCURRENCY: String(Math.max(DEFAULTS.workerReservedConcurrency, settings.workerProcesses)),
    WORKER_FLOOR_RATE: inherited['WORKER_FLOOR_RATE'] ?? String(DEFAULTS.workerFloorRate),
    PORT: String(settings.port),
    LAMBDA_PORT: String(settings.lambdaPort),
    POWERTOOLS_SERVICE_NAME: names.metricsService,
  };
  return {
    env,
    ignored: [...(secretId === undefined ? [] : ['SECRET_ID']), ...(imRegion === undefined ? [] : ['IM_REGION'])],
  };
}
