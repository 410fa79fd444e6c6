/**
 * Where the gateway the CLI operates lives: its queues, tables, IM endpoint and credentials.
 *
 * - `--stage S [--region R]`: the deployed stack `tim-attr-gateway-S` (its CloudFormation outputs), the usual AWS
 *   credentials, and the IM credentials from the gateway's Secrets Manager secret.
 * - no stage: `npm start`'s local stack, found the way `npm start` places it (`SQS_PORT`, `DYNAMODB_PORT`, `PORT`,
 *   `EMULATOR_PORT`, `IM_BASE_URL`, `TIM_*`, `WEBHOOK_SECRET`, or their defaults).
 * - either way, the environment names things directly and wins: `INTAKE_QUEUE_URL`, `LANES_QUEUE_URL`, `DLQ_URL`,
 *   `SQS_ENDPOINT`, `DYNAMODB_ENDPOINT`, `<NAME>_TABLE`, `IM_BASE_URL`, `IM_REGION`, `SECRET_ID`.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import { SecretsManagerSource } from '../../lib/credentials/secrets-manager-source.ts';
import { StaticCredentialSource } from '../../lib/credentials/static-source.ts';
import { WebhookSecretSource } from '../../lib/credentials/webhook-secret-source.ts';
import type { CredentialSource } from '../../lib/credentials/types.ts';
import { resolveEndpoint } from '../../lib/im/regions.ts';
import { localCredentials } from '../../lib/config/local-credentials.ts';
import { LocalSettingsError, readLocalSettings } from '../../lib/config/local-settings.ts';
import { resourceNames } from '../../lib/config/resource-names.ts';
import { UsageError } from '../exit-codes.ts';
import { readStackOutputs, stackName } from './stack-outputs.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The gateway's three queues. */
export const QUEUE_ROLES = ['lanes', 'intake', 'deadLetter'] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];

const QUEUE_ENV: Readonly<Record<QueueRole, string>> = {
  lanes: 'LANES_QUEUE_URL',
  intake: 'INTAKE_QUEUE_URL',
  deadLetter: 'DLQ_URL',
};
const QUEUE_OUTPUT: Readonly<Record<QueueRole, string>> = {
  lanes: 'LanesQueueUrl',
  intake: 'IntakeQueueUrl',
  deadLetter: 'DeadLetterQueueUrl',
};
/** The local endpoints check no signature; any credentials do. */
const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface TargetOptions {
  readonly stage?: string | undefined;
  readonly region?: string | undefined;
}

export interface GatewayTarget {
  /** Where the CLI is pointed, for messages: `local stack (SQS http://localhost:4566)` or `stage prod (stack …)`. */
  readonly label: string;
  readonly region: string;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  /** CloudWatch, for the age of the oldest message; none locally. */
  readonly cloudwatch: CloudWatchClient | undefined;
  queueUrl(role: QueueRole): Promise<string>;
  /** The gateway's tables by what they hold (`idempotency`, …) → table name. */
  tables(): Promise<ReadonlyMap<string, string>>;
  readonly imBaseUrl: string;
  readonly imCredentials: CredentialSource;
  /** The gateway's webhook route, when known. */
  webhookUrl(): Promise<string | undefined>;
  /** The webhook secret (`whsec_…`) the gateway checks, when known. Never printed. */
  webhookSecret(): Promise<string | undefined>;
  close(): void;
}

const given = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

/** `idempotencyTable` → `idempotency`, `IdempotencyTableName` → `idempotency`, `BUDGET_TABLE` → `budget`. */
export function tableLabel(key: string): string {
  const stem = key.replace(/(_TABLE|TableName|Table)$/, '');
  if (stem.includes('_') || stem === stem.toUpperCase())
    return stem.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return stem.charAt(0).toLowerCase() + stem.slice(1);
}

/** Tables named by the environment (`IDEMPOTENCY_TABLE`, any other `<NAME>_TABLE`), by label. */
function envTables(env: Env): Map<string, string> {
  const tables = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (/^[A-Z][A-Z0-9_]*_TABLE$/.test(name) && value !== undefined && value.trim() !== '')
      tables.set(tableLabel(name), value.trim());
  }
  return tables;
}

/** Every table of a stage's resource names: each name ending in `Table` (so a table added there is found too). */
function namedTables(stage: string): Map<string, string> {
  return new Map(
    Object.entries(resourceNames(stage))
      .filter(([key]) => key.endsWith('Table'))
      .map(([key, name]) => [tableLabel(key), name]),
  );
}

function isAwsQueueUrl(url: string): boolean {
  return URL.canParse(url) && new URL(url).hostname.endsWith('.amazonaws.com');
}

function sdkAppIdOf(text: string, variable: string): number {
  const value = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(value) || value <= 0)
    throw new UsageError(`${variable} must be the app's SDKAppID, a positive whole number`);
  return value;
}

/** Credentials from `TIM_*` (or the local development defaults `npm start` uses). */
function envCredentials(env: Env): CredentialSource {
  const c = localCredentials(env);
  return new StaticCredentialSource({
    sdkAppId: sdkAppIdOf(c.TIM_SDKAPPID, 'TIM_SDKAPPID'),
    identifier: c.TIM_IDENTIFIER,
    secretKey: c.TIM_SECRET_KEY,
    webhookSecret: c.WEBHOOK_SECRET,
  });
}

/** Finds a queue by its name at an SQS endpoint (the local stack's queues have fixed names). */
async function queueUrlByName(sqs: SQSClient, name: string, where: string): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (QueueUrl !== undefined) return QueueUrl;
  } catch (error: unknown) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(
      `the queue ${name} could not be found at ${where} (${reason}); is \`npm start\` running, with the same SQS_PORT?`,
      { cause: error },
    );
  }
  throw new Error(`GetQueueUrl returned no URL for ${name} at ${where}`);
}

/** The local stack of `npm start`, with whatever the environment names directly. */
function localTarget(env: Env): GatewayTarget {
  let settings;
  try {
    settings = readLocalSettings(env);
  } catch (error: unknown) {
    if (error instanceof LocalSettingsError) throw new UsageError(error.message);
    throw error;
  }
  const region = given(env, 'AWS_REGION') ?? settings.awsRegion;
  const sqsEndpoint = given(env, 'SQS_ENDPOINT');
  // A deployed queue named in the environment, and no local endpoint: AWS itself, with the usual credentials.
  const onAws =
    sqsEndpoint === undefined && QUEUE_ROLES.some((role) => isAwsQueueUrl(given(env, QUEUE_ENV[role]) ?? ''));
  const sqs = onAws
    ? new SQSClient({ region })
    : new SQSClient({
        region,
        endpoint: sqsEndpoint ?? `http://localhost:${settings.sqsPort}`,
        credentials: LOCAL_AWS_CREDENTIALS,
      });
  const dynamodbEndpoint =
    given(env, 'DYNAMODB_ENDPOINT') ?? (onAws ? undefined : `http://localhost:${settings.dynamodbPort}`);
  const dynamodb =
    dynamodbEndpoint === undefined
      ? new DynamoDBClient({ region })
      : new DynamoDBClient({ region, endpoint: dynamodbEndpoint, credentials: LOCAL_AWS_CREDENTIALS });
  const names = resourceNames(settings.stage);
  const where = onAws ? `AWS (${region})` : (sqsEndpoint ?? `http://localhost:${settings.sqsPort}`);
  const imBaseUrl = given(env, 'IM_BASE_URL') ?? `http://127.0.0.1:${settings.emulatorPort}`;
  const credentials = envCredentials(env);
  return {
    label: onAws ? `queues named by the environment (${region})` : `local stack (SQS ${where})`,
    region,
    sqs,
    dynamodb,
    cloudwatch: onAws ? new CloudWatchClient({ region }) : undefined,
    queueUrl: (role) =>
      Promise.resolve(given(env, QUEUE_ENV[role])).then((url) => url ?? queueUrlByName(sqs, names[role], where)),
    tables: () => Promise.resolve(new Map([...namedTables(settings.stage), ...envTables(env)])),
    imBaseUrl,
    imCredentials: credentials,
    webhookUrl: () => Promise.resolve(`http://localhost:${settings.port}/v1/user-attrs`),
    webhookSecret: () => Promise.resolve(localCredentials(env).WEBHOOK_SECRET),
    close() {
      sqs.destroy();
      dynamodb.destroy();
    },
  };
}

/** A deployed stage, from its stack's outputs; the environment still wins where it names something. */
async function stageTarget(stage: string, env: Env, regionOption: string | undefined): Promise<GatewayTarget> {
  const region = regionOption ?? given(env, 'AWS_REGION') ?? given(env, 'AWS_DEFAULT_REGION') ?? 'ap-southeast-1';
  const cloudformation = new CloudFormationClient({ region });
  let outputs: ReadonlyMap<string, string>;
  try {
    outputs = await readStackOutputs(cloudformation, stage);
  } finally {
    cloudformation.destroy();
  }
  const sqs = new SQSClient({ region });
  const dynamodb = new DynamoDBClient({ region });
  const secrets = new SecretsManagerClient({ region });
  const secretId = given(env, 'SECRET_ID') ?? outputs.get('SecretName') ?? `${DEFAULTS.service}/${stage}`;
  const imCredentials = new SecretsManagerSource({ client: secrets, secretId });
  const webhookSecretId = given(env, 'WEBHOOK_SECRET_ID') ?? outputs.get('WebhookSecretName');
  const ownWebhookSecret =
    webhookSecretId === undefined ? undefined : new WebhookSecretSource({ client: secrets, secretId: webhookSecretId });
  const imBaseUrl = resolveEndpoint({
    region: given(env, 'IM_REGION') ?? outputs.get('ImRegion') ?? DEFAULTS.imRegion,
    baseUrl: given(env, 'IM_BASE_URL'),
  });
  const tables = new Map(
    [...outputs].filter(([key]) => key.endsWith('TableName')).map(([key, name]) => [tableLabel(key), name]),
  );
  const apiUrl = outputs.get('HttpApiUrl');
  return {
    label: `stage ${stage} (stack ${stackName(stage)}, ${region})`,
    region,
    sqs,
    dynamodb,
    cloudwatch: new CloudWatchClient({ region }),
    queueUrl: (role) => {
      const url = given(env, QUEUE_ENV[role]) ?? outputs.get(QUEUE_OUTPUT[role]);
      if (url === undefined)
        return Promise.reject(
          new UsageError(`stack ${stackName(stage)} has no output ${QUEUE_OUTPUT[role]}; set ${QUEUE_ENV[role]}`),
        );
      return Promise.resolve(url);
    },
    tables: () => Promise.resolve(new Map([...tables, ...envTables(env)])),
    imBaseUrl,
    imCredentials,
    webhookUrl: () => Promise.resolve(apiUrl === undefined ? undefined : `${apiUrl.replace(/\/+$/, '')}/v1/user-attrs`),
    // A stack from before the two secrets were split keeps the webhook secret in the credentials.
    webhookSecret: async () =>
      ownWebhookSecret === undefined ? (await imCredentials.get()).webhookSecret : ownWebhookSecret.get(),
    close() {
      sqs.destroy();
      dynamodb.destroy();
      secrets.destroy();
    },
  };
}

/** The gateway the options and the environment point at. */
export async function resolveTarget(options: TargetOptions, env: Env): Promise<GatewayTarget> {
  if (options.stage !== undefined) return stageTarget(options.stage, env, options.region);
  if (options.region !== undefined)
    throw new UsageError('--region needs --stage (without a stage the CLI works on the local stack)');
  return localTarget(env);
}
