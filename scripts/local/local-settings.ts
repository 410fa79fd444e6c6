import { serviceDefaults } from './service-defaults.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Thrown when an environment variable of a local run holds an unusable value. */
export class LocalSettingsError extends Error {
  override readonly name = 'LocalSettingsError';
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
  /** Port of the IM emulator; 0 picks a free one. Unused when `imBaseUrl` is set. */
  readonly emulatorPort: number;
  /** An IM endpoint to use instead of starting the emulator. */
  readonly imBaseUrl: string | undefined;
  /** Always `local`: serverless.yml's `params.local` keeps SECRET_ID and the stack's queue URLs out. */
  readonly stage: 'local';
  readonly awsRegion: string;
  /** Poller processes, one per concurrent worker copy (the event source mapping's maximumConcurrency). */
  readonly workerProcesses: number;
  readonly workerBatchSize: number;
  readonly workerBatchingWindowSeconds: number;
  readonly workerTimeoutSeconds: number;
  /** Seconds before a failed record is retried locally (a deployed queue waits its visibility timeout). */
  readonly retryVisibilitySeconds: number;
}

export const localSettingsDefaults = {
  PORT: 3000,
  LAMBDA_PORT: 3302,
  SQS_PORT: 4566,
  EMULATOR_PORT: 5080,
  AWS_REGION: 'ap-southeast-1',
  WORKER_MAX_CONCURRENCY: serviceDefaults.workerMaxConcurrency,
  WORKER_BATCH_SIZE: serviceDefaults.workerBatchSize,
  WORKER_BATCHING_WINDOW_SECONDS: serviceDefaults.workerBatchingWindowSeconds,
  WORKER_TIMEOUT_SECONDS: serviceDefaults.workerTimeoutSeconds,
  LOCAL_RETRY_VISIBILITY_SECONDS: 10,
} as const;

type NumericSetting = { [K in keyof typeof localSettingsDefaults]: (typeof localSettingsDefaults)[K] extends number ? K : never }[keyof typeof localSettingsDefaults];

function integer(env: Env, name: NumericSetting, min: number, max: number): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return localSettingsDefaults[name];
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new LocalSettingsError(name, text, `must be a whole number from ${min} to ${max}`);
  }
  return value;
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
  return {
    port: integer(env, 'PORT', 1, 65535),
    lambdaPort: integer(env, 'LAMBDA_PORT', 1, 65535),
    sqsPort: integer(env, 'SQS_PORT', 1, 65535),
    emulatorPort: integer(env, 'EMULATOR_PORT', 0, 65535),
    imBaseUrl: imBaseUrl === '' ? undefined : imBaseUrl,
    stage: 'local',
    awsRegion: text(env, 'AWS_REGION'),
    workerProcesses: integer(env, 'WORKER_MAX_CONCURRENCY', 1, 50),
    workerBatchSize: integer(env, 'WORKER_BATCH_SIZE', 1, 10_000),
    workerBatchingWindowSeconds: integer(env, 'WORKER_BATCHING_WINDOW_SECONDS', 0, 300),
    workerTimeoutSeconds: integer(env, 'WORKER_TIMEOUT_SECONDS', 1, 900),
    retryVisibilitySeconds: integer(env, 'LOCAL_RETRY_VISIBILITY_SECONDS', 0, 43_200),
  };
}
