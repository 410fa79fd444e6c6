import DEFAULTS from './defaults.json' with { type: 'json' };
import { GatewayError } from '../core/errors.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Thrown when an environment variable of a local run holds an unusable value. */
export class LocalSettingsError extends GatewayError {
  override name = 'LocalSettingsError';
  readonly variable: string;
  readonly value: string;

  constructor(variable: string, value: string, rule: string) {
    super(`${variable} ${rule} (got "${value}")`);
    this.variable = variable;
    this.value = value;
  }
}

/** How `npm start` runs the service on this machine. */
export interface LocalSettings {
  /** HTTP API port (serverless-offline). */
  readonly port: number;
  /** Port of serverless-offline's Lambda invoke endpoint. */
  readonly lambdaPort: number;
  /** Port of the local SQS endpoint (fauxqs). */
  readonly sqsPort: number;
  /** Port of the local DynamoDB endpoint (dynalite). */
  readonly dynamodbPort: number;
  /** Port of the IM emulator; 0 picks a free one. Unused when `imBaseUrl` is set. */
  readonly emulatorPort: number;
  /** An IM endpoint to use instead of starting the emulator. */
  readonly imBaseUrl: string | undefined;
  /** Always `local`: serverless.yml's `params.local` keeps SECRET_ID, the stack's queue URLs and table out. */
  readonly stage: 'local';
  readonly awsRegion: string;
  /**
   * Poller processes on the lanes queue, one per concurrent worker copy (the lanes mapping's
   * maximumConcurrency); also the WORKER_MAX_CONCURRENCY the worker paces itself by.
   */
  readonly workerProcesses: number;
  /** Records per lanes invocation (a FIFO mapping takes at most 10). */
  readonly workerBatchSize: number;
  readonly workerTimeoutSeconds: number;
  /**
   * Seconds before a failed record is retried locally, overriding the worker's own backoff. Unset (the
   * default): failed records come back when the worker's backoff says, as deployed.
   */
  readonly retryVisibilitySeconds: number | undefined;
}

/** Defaults of a local run; the service's figures come from lib/config/defaults.json. */
export const localSettingsDefaults = {
  PORT: 3000,
  LAMBDA_PORT: 3302,
  SQS_PORT: 4566,
  DYNAMODB_PORT: 4567,
  EMULATOR_PORT: 5080,
  AWS_REGION: 'ap-southeast-1',
  WORKER_MAX_CONCURRENCY: DEFAULTS.workerMaxConcurrency,
  WORKER_BATCH_SIZE: DEFAULTS.workerBatchSize,
  WORKER_TIMEOUT_SECONDS: DEFAULTS.workerTimeoutSeconds,
} as const;

type NumericSetting = {
  [K in keyof typeof localSettingsDefaults]: (typeof localSettingsDefaults)[K] extends number ? K : never;
}[keyof typeof localSettingsDefaults];

function parseInteger(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new LocalSettingsError(name, text, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function integer(env: Env, name: NumericSetting, min: number, max: number): number {
  const text = env[name]?.trim();
  return text === undefined || text === '' ? localSettingsDefaults[name] : parseInteger(name, text, min, max);
}

function text(env: Env, name: 'AWS_REGION'): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? localSettingsDefaults[name] : value;
}

/** Reads the settings of a local run from the environment; every one has a default. */
export function readLocalSettings(env: Env): LocalSettings {
  const imBaseUrl = env['IM_BASE_URL']?.trim();
  if (imBaseUrl !== undefined && imBaseUrl !== '' && !URL.canParse(imBaseUrl)) {
    throw new LocalSettingsError('IM_BASE_URL', imBaseUrl, 'must be a URL');
  }
  const retryText = env['LOCAL_RETRY_VISIBILITY_SECONDS']?.trim();
  return {
    port: integer(env, 'PORT', 1, 65535),
    lambdaPort: integer(env, 'LAMBDA_PORT', 1, 65535),
    sqsPort: integer(env, 'SQS_PORT', 1, 65535),
    dynamodbPort: integer(env, 'DYNAMODB_PORT', 1, 65535),
    emulatorPort: integer(env, 'EMULATOR_PORT', 0, 65535),
    imBaseUrl: imBaseUrl === '' ? undefined : imBaseUrl,
    stage: 'local',
    awsRegion: text(env, 'AWS_REGION'),
    // 2 at least: Lambda's smallest maximumConcurrency, and what the worker's configuration accepts.
    workerProcesses: integer(env, 'WORKER_MAX_CONCURRENCY', 2, 50),
    workerBatchSize: integer(env, 'WORKER_BATCH_SIZE', 1, 10),
    workerTimeoutSeconds: integer(env, 'WORKER_TIMEOUT_SECONDS', 1, 900),
    retryVisibilitySeconds:
      retryText === undefined || retryText === ''
        ? undefined
        : parseInteger('LOCAL_RETRY_VISIBILITY_SECONDS', retryText, 0, 43_200),
  };
}
