/**
 * The service's configuration: parsed once from the environment by one zod schema, with errors that
 * name the variable and the rule. Defaults are embedded so a local run needs no settings.
 */
import * as z from '../validation/zod.ts';
import DEFAULTS from './defaults.json' with { type: 'json' };
import { planFleetBudget, planSharedGrid, type FleetBudget, type SharedGrid } from '../pacing/fleet-budget.ts';
import { GatewayError } from '../core/errors.ts';

/** The tunables' defaults: one file, read by this schema, by serverless.yml (`params.default`) and by the local runner. */
export { DEFAULTS };

/** Log levels the Powertools logger takes. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const intFrom = (def: number, min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z._default(z.pipe(z.coerce.number(), z.int().check(z.gte(min), z.lte(max))), def);

const optionalString = z.pipe(
  z.optional(z.string()),
  z.transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
);

const envSchema = z.object({
  FUNCTION_ROLE: z._default(z.enum(['api', 'worker']), 'api'),
  SECRET_ID: optionalString,
  SECRET_CACHE_TTL_SECONDS: intFrom(DEFAULTS.secretCacheTtlSeconds, 0, 86_400),
  TIM_SDKAPPID: optionalString,
  TIM_IDENTIFIER: optionalString,
  TIM_SECRET_KEY: optionalString,
  WEBHOOK_SECRET: optionalString,
  WEBHOOK_SECRET_ID: optionalString,
  IM_REGION: optionalString,
  IM_BASE_URL: z.pipe(optionalString, z.optional(z.url())),
  // IM's own timeout is 3 s: a client timeout at or below it cuts off answers that were still coming.
  IM_TIMEOUT_MS: intFrom(DEFAULTS.imTimeoutMs, 3001, 60_000),
  ATTR_NAMES: optionalString,
  ATTR_NAMES_CACHE_TTL_SECONDS: intFrom(300, 0, 86_400),
  LANES_QUEUE_URL: optionalString,
  INTAKE_QUEUE_URL: optionalString,
  DLQ_URL: optionalString,
  SQS_ENDPOINT: optionalString,
  IDEMPOTENCY_TABLE: optionalString,
  DYNAMODB_ENDPOINT: optionalString,
  BUDGET_TABLE: optionalString,
  IDEMPOTENCY_TTL_HOURS: intFrom(DEFAULTS.idempotencyTtlHours, 1, 24 * 30),
  LANE_COUNT: intFrom(DEFAULTS.laneCount, 1, 10_000),
  LANE_RETRY_MAX_SECONDS: intFrom(DEFAULTS.laneRetryMaxSeconds, 1, 43_200),
  INTAKE_RETRY_WINDOW_SECONDS: intFrom(DEFAULTS.intakeRetryWindowSeconds, 10, 290),
  WORKER_TIMEOUT_SECONDS: intFrom(DEFAULTS.workerTimeoutSeconds, 1, 900),
  INTAKE_VISIBILITY_TIMEOUT_SECONDS: intFrom(DEFAULTS.intakeVisibilityTimeoutSeconds, 0, 43_200),
  OUTAGE_TOLERANCE_MINUTES: intFrom(DEFAULTS.outageToleranceMinutes, 1, 5760),
  STUCK_LANE_MINUTES: intFrom(DEFAULTS.stuckLaneMinutes, 1, 5760),
  AWS_REGION: z._default(z.string(), 'ap-southeast-1'),
  MAX_BODY_BYTES: intFrom(DEFAULTS.maxBodyBytes, 1024, 10 * 1024 * 1024),
  WEBHOOK_AUTH: z._default(z.enum(['standard-webhooks', 'none']), 'standard-webhooks'),
  API_INLINE_CHUNKS: intFrom(DEFAULTS.apiInlineChunks, 0, 100),
  API_INLINE_WAIT_MS: intFrom(DEFAULTS.apiInlineWaitMs, 0, 60_000),
  WORKER_GATHER_MS: intFrom(DEFAULTS.workerGatherMs, 0, 900_000),
  WORKER_GATHER_MAX_RECORDS: intFrom(DEFAULTS.workerGatherMaxRecords, 10, 10_000),
  DEADLINE_MARGIN_MS: intFrom(1000, 0, 60_000),
  IM_RATE_LIMIT: intFrom(DEFAULTS.imRateLimit, 1, 10_000),
  API_RATE_SHARE: intFrom(DEFAULTS.apiRateShare, 1, 10_000),
  API_MAX_CONCURRENCY: intFrom(DEFAULTS.apiMaxConcurrency, 1, 10_000),
  WORKER_MAX_CONCURRENCY: intFrom(DEFAULTS.workerMaxConcurrency, 2, 1000),
  WORKER_RESERVED_CONCURRENCY: intFrom(DEFAULTS.workerReservedConcurrency, 2, 10_000),
  IM_BUDGET_MARGIN: z._default(
    z.pipe(z.coerce.number(), z.number().check(z.gte(0), z.lte(10_000))),
    DEFAULTS.imBudgetMarginPerSecond,
  ),
  WORKER_FLOOR_RATE: z._default(
    z.pipe(z.coerce.number(), z.number().check(z.gt(0), z.lte(10_000))),
    DEFAULTS.workerFloorRate,
  ),
  IM_MAX_IN_FLIGHT: intFrom(64, 1, 1024),
  IM_PACING_MARGIN_MS: intFrom(DEFAULTS.imPacingMarginMs, 0, 1000),
  LOG_LEVEL: z._default(z.enum(LOG_LEVELS), 'INFO'),
  IM_RETRY_MAX_ATTEMPTS: intFrom(6, 1, 20),
  IM_RETRY_MAX_TOTAL_MS: intFrom(20_000, 0, 900_000),
});

/** Where the admin credentials come from. */
export type CredentialsConfig =
  | { readonly source: 'secrets-manager'; readonly secretId: string; readonly cacheTtlSeconds: number }
  | {
      readonly source: 'env';
      readonly sdkAppId: number;
      readonly identifier: string;
      readonly secretKey: string;
      readonly webhookSecret?: string;
    };

export interface Config {
  readonly role: 'api' | 'worker';
  readonly logLevel: LogLevel;
  readonly credentials: CredentialsConfig;
  /** The Secrets Manager secret holding the webhook secret alone (read by the API only); undefined: from the credentials. */
  readonly webhookSecretId?: string;
  readonly im: {
    readonly region?: string;
    readonly baseUrl?: string;
    readonly timeoutMs: number;
    readonly maxInFlight: number;
    /** Ms added to every pacing window for jitter between a request leaving and IM counting it (its arrival). */
    readonly pacingMarginMs: number;
    readonly retryMaxAttempts: number;
    readonly retryMaxTotalMs: number;
  };
  /** Registered attribute names given in config; undefined: learn them from IM. */
  readonly attrNames?: readonly string[];
  readonly attrNamesCacheTtlSeconds: number;
  readonly sqs: {
    /** The FIFO lanes queue: every accepted user is written here, one message group per lane. */
    readonly lanesQueueUrl?: string;
    /** The FIFO intake queue other producers send to; the worker moves its messages into lanes. */
    readonly intakeQueueUrl?: string;
    readonly dlqUrl?: string;
    readonly endpoint?: string;
    readonly region: string;
  };
  /** The DynamoDB table of idempotency records (webhook ids); undefined: re-deliveries are not recognised. */
  readonly idempotency?: { readonly tableName: string; readonly endpoint?: string; readonly ttlSeconds: number };
  readonly lanes: {
    /** Message groups of the lanes queue: `hash(To_Account) mod count`. Also caps the worker fleet. */
    readonly count: number;
    /** Longest backoff between retries of a failing lane record. */
    readonly retryMaxSeconds: number;
    /** A lane record still failing this long after its first receive goes to the dead-letter queue. */
    readonly outageToleranceMs: number;
    /** An intake message that could not be moved into lanes within this window goes to the dead-letter queue. */
    readonly intakeRetryWindowMs: number;
    /** A lane record failing this long while other lanes are applied is dead-lettered (`lane-stuck`). */
    readonly stuckLaneToleranceMs: number;
  };
  readonly maxBodyBytes: number;
  /** Standard Webhooks signatures (5-minute tolerance, fixed by the spec) or none when API Gateway IAM auth is used. */
  readonly webhookAuth: 'standard-webhooks' | 'none';
  /** The most calls (≤ 100 users each) of a webhook the API writes to IM itself, after every user is in its lane. */
  readonly apiInlineChunks: number;
  /** The API makes an early write only when its pacing can start it within this wait. */
  readonly apiInlineWaitMs: number;
  /** How a lanes invocation gathers records beyond its event batch (lib/core/usecases/process-lanes.ts). */
  readonly gather: { readonly forMs: number; readonly maxRecords: number };
  /** Time kept free before the Lambda deadline: no IM call starts that could end inside it. */
  readonly deadlineMarginMs: number;
  /** The static split of IM's limit, used when no budget table is configured. */
  readonly fleet: FleetBudget;
  /** The fleet's shared slot grid in DynamoDB (BUDGET_TABLE); undefined: every copy paces to its static share. */
  readonly grid?: SharedGrid & { readonly tableName: string; readonly endpoint?: string };
  /**
   * This copy's own pace, calls/s: its floor beside the shared grid (0 for the API), else its static share.
   */
  readonly callsPerSecond: number;
}

export class ConfigError extends GatewayError {
  override name = 'ConfigError';
}

/** Problems with the credentials settings, or none. */
function credentialProblems(env: Env): string[] {
  if (env.SECRET_ID !== undefined) return [];
  const missing = (['TIM_SDKAPPID', 'TIM_IDENTIFIER', 'TIM_SECRET_KEY'] as const).filter((k) => env[k] === undefined);
  if (missing.length > 0) return [`set SECRET_ID (Secrets Manager), or for a local run ${missing.join(', ')}`];
  return /^[1-9]\d{0,15}$/.test(env.TIM_SDKAPPID ?? '') ? [] : ['TIM_SDKAPPID must be a positive whole number'];
}

function credentialsFrom(env: Env): CredentialsConfig {
  if (env.SECRET_ID !== undefined) {
    return { source: 'secrets-manager', secretId: env.SECRET_ID, cacheTtlSeconds: env.SECRET_CACHE_TTL_SECONDS };
  }
  const sdkAppId = Number(env.TIM_SDKAPPID);
  return {
    source: 'env',
    sdkAppId,
    identifier: env.TIM_IDENTIFIER ?? '',
    secretKey: env.TIM_SECRET_KEY ?? '',
    ...(env.WEBHOOK_SECRET === undefined ? {} : { webhookSecret: env.WEBHOOK_SECRET }),
  };
}

/** A copy's own pace: beside the grid, the workers' floor and none for the API; without it, the static share. */
function copyPace(role: 'api' | 'worker', fleet: FleetBudget, grid: SharedGrid | undefined): number {
  if (grid !== undefined) return role === 'api' ? 0 : grid.workerFloorRate;
  return role === 'api' ? fleet.apiCallsPerSecondPerCopy : fleet.workerCallsPerSecondPerCopy;
}

type Env = z.infer<typeof envSchema>;

/** Parses the configuration from an environment (default `process.env`). Throws ConfigError naming every bad variable. */
export function loadConfig(source: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const env = parsed.data;
  // Every problem at once, so a deployment is fixed in one round rather than one variable per cold start.
  const problems = credentialProblems(env);
  if (env.IM_REGION === undefined && env.IM_BASE_URL === undefined)
    problems.push('set IM_REGION (e.g. singapore) or IM_BASE_URL');
  const { fleet, grid, budgetError } = planBudgets(env, problems);
  if (problems.length > 0 || fleet === undefined) {
    throw new ConfigError(
      `invalid configuration: ${problems.join('; ')}`,
      budgetError === undefined ? undefined : { cause: budgetError },
    );
  }
  return configFrom(env, fleet, grid);
}

/** The fleet budget and the shared grid; a budget that does not add up is one more problem, the first as the cause. */
function planBudgets(
  env: Env,
  problems: string[],
): { fleet: FleetBudget | undefined; grid: SharedGrid | undefined; budgetError: unknown } {
  let budgetError: unknown;
  const plan = <T>(make: () => T): T | undefined => {
    try {
      return make();
    } catch (error) {
      budgetError ??= error;
      problems.push(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  };
  const fleet = plan(() =>
    planFleetBudget({
      imRateLimit: env.IM_RATE_LIMIT,
      apiRateShare: env.API_RATE_SHARE,
      apiMaxConcurrency: env.API_MAX_CONCURRENCY,
      workerMaxConcurrency: env.WORKER_MAX_CONCURRENCY,
    }),
  );
  const grid =
    env.BUDGET_TABLE === undefined
      ? undefined
      : plan(() =>
          planSharedGrid({
            imRateLimit: env.IM_RATE_LIMIT,
            marginPerSecond: env.IM_BUDGET_MARGIN,
            workerFloorRate: env.WORKER_FLOOR_RATE,
            workerReservedConcurrency: env.WORKER_RESERVED_CONCURRENCY,
            workerMaxConcurrency: env.WORKER_MAX_CONCURRENCY,
          }),
        );
  return { fleet, grid, budgetError };
}

/** The configuration of a valid environment. */
function configFrom(env: Env, fleet: FleetBudget, grid: SharedGrid | undefined): Config {
  const names = env.ATTR_NAMES?.split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  return {
    role: env.FUNCTION_ROLE,
    logLevel: env.LOG_LEVEL,
    credentials: credentialsFrom(env),
    ...(env.WEBHOOK_SECRET_ID === undefined ? {} : { webhookSecretId: env.WEBHOOK_SECRET_ID }),
    im: {
      ...(env.IM_REGION === undefined ? {} : { region: env.IM_REGION }),
      ...(env.IM_BASE_URL === undefined ? {} : { baseUrl: env.IM_BASE_URL }),
      timeoutMs: env.IM_TIMEOUT_MS,
      maxInFlight: env.IM_MAX_IN_FLIGHT,
      pacingMarginMs: env.IM_PACING_MARGIN_MS,
      retryMaxAttempts: env.IM_RETRY_MAX_ATTEMPTS,
      retryMaxTotalMs: env.IM_RETRY_MAX_TOTAL_MS,
    },
    ...(names === undefined || names.length === 0 ? {} : { attrNames: names }),
    attrNamesCacheTtlSeconds: env.ATTR_NAMES_CACHE_TTL_SECONDS,
    sqs: {
      ...(env.LANES_QUEUE_URL === undefined ? {} : { lanesQueueUrl: env.LANES_QUEUE_URL }),
      ...(env.INTAKE_QUEUE_URL === undefined ? {} : { intakeQueueUrl: env.INTAKE_QUEUE_URL }),
      ...(env.DLQ_URL === undefined ? {} : { dlqUrl: env.DLQ_URL }),
      ...(env.SQS_ENDPOINT === undefined ? {} : { endpoint: env.SQS_ENDPOINT }),
      region: env.AWS_REGION,
    },
    ...(env.IDEMPOTENCY_TABLE === undefined
      ? {}
      : {
          idempotency: {
            tableName: env.IDEMPOTENCY_TABLE,
            ...(env.DYNAMODB_ENDPOINT === undefined ? {} : { endpoint: env.DYNAMODB_ENDPOINT }),
            ttlSeconds: env.IDEMPOTENCY_TTL_HOURS * 3600,
          },
        }),
    lanes: {
      count: env.LANE_COUNT,
      retryMaxSeconds: env.LANE_RETRY_MAX_SECONDS,
      outageToleranceMs: env.OUTAGE_TOLERANCE_MINUTES * 60_000,
      stuckLaneToleranceMs: env.STUCK_LANE_MINUTES * 60_000,
      intakeRetryWindowMs: intakeRetryWindowMs(
        env.INTAKE_RETRY_WINDOW_SECONDS,
        env.WORKER_TIMEOUT_SECONDS,
        env.INTAKE_VISIBILITY_TIMEOUT_SECONDS,
      ),
    },
    maxBodyBytes: env.MAX_BODY_BYTES,
    webhookAuth: env.WEBHOOK_AUTH,
    apiInlineChunks: env.API_INLINE_CHUNKS,
    apiInlineWaitMs: env.API_INLINE_WAIT_MS,
    gather: { forMs: env.WORKER_GATHER_MS, maxRecords: env.WORKER_GATHER_MAX_RECORDS },
    deadlineMarginMs: env.DEADLINE_MARGIN_MS,
    fleet,
    ...(grid === undefined || env.BUDGET_TABLE === undefined
      ? {}
      : {
          grid: {
            ...grid,
            tableName: env.BUDGET_TABLE,
            ...(env.DYNAMODB_ENDPOINT === undefined ? {} : { endpoint: env.DYNAMODB_ENDPOINT }),
          },
        }),
    callsPerSecond: copyPace(env.FUNCTION_ROLE, fleet, grid),
  };
}

/** SQS FIFO's deduplication window: a lane message sent again after it is a new message. */
const SQS_DEDUP_WINDOW_SECONDS = 300;

/**
 * The intake's re-lane window, in ms: the configured one, cut so that a write decided at its end still lands
 * inside SQS's deduplication window even when the invocation runs to its timeout and the message then waits
 * out its visibility timeout before the next try. At the defaults (180 s, 45 s, 60 s) it is the configured 180 s.
 * @throws ConfigError when the timeouts leave under 10 s.
 */
export function intakeRetryWindowMs(
  configuredSeconds: number,
  workerTimeoutSeconds: number,
  visibilityTimeoutSeconds: number,
): number {
  const room = SQS_DEDUP_WINDOW_SECONDS - workerTimeoutSeconds - visibilityTimeoutSeconds;
  if (room < 10) {
    throw new ConfigError(
      `invalid configuration: INTAKE_RETRY_WINDOW_SECONDS: the worker timeout (${workerTimeoutSeconds} s) and the intake visibility timeout (${visibilityTimeoutSeconds} s) leave ${room} s of SQS's ${SQS_DEDUP_WINDOW_SECONDS} s deduplication window; at least 10 s are needed`,
    );
  }
  return Math.min(configuredSeconds, room) * 1000;
}
