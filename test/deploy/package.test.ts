import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import { localQueuesDefaults } from '../../scripts/local/local-queues.ts';
import { resourceNames } from '../../scripts/local/resource-names.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const serverlessBin = join(root, 'node_modules/serverless/bin/serverless.js');
const run = promisify(execFile);

const resourceSchema = z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).default({}) });
const templateSchema = z.object({ Resources: z.record(z.string(), resourceSchema), Outputs: z.record(z.string(), z.object({ Value: z.unknown() })) });
const statementSchema = z.object({ Effect: z.literal('Allow'), Action: z.array(z.string()), Resource: z.array(z.unknown()) });
const roleSchema = z.object({
  Policies: z.array(z.object({ PolicyDocument: z.object({ Statement: z.array(statementSchema) }) })),
  ManagedPolicyArns: z.array(z.unknown()).optional(),
});
const printedConfigSchema = z.object({
  service: z.string(),
  params: z.object({ default: z.record(z.string(), z.unknown()) }),
  provider: z.object({ environment: z.record(z.string(), z.unknown()) }),
});

type Resource = z.infer<typeof resourceSchema>;
type Statement = z.infer<typeof statementSchema>;

const ONE_MIB = 1_048_576;
const names = resourceNames('dev');

let resources: Record<string, Resource>;
let outputs: Record<string, { Value: unknown }>;
let printed: z.infer<typeof printedConfigSchema>;

function resource(logicalId: string): Resource {
  const found = resources[logicalId];
  if (found === undefined) throw new Error(`the template has no ${logicalId}`);
  return found;
}

function ofType(type: string): Resource[] {
  return Object.values(resources).filter((r) => r.Type === type);
}

function roleStatements(): Statement[] {
  const role = roleSchema.parse(resource('IamRoleLambdaExecution').Properties);
  return role.Policies.flatMap((p) => p.PolicyDocument.Statement);
}

function mappingOf(queueLogicalId: string): Resource {
  const found = ofType('AWS::Lambda::EventSourceMapping').filter((m) => JSON.stringify(m.Properties['EventSourceArn']) === JSON.stringify(getAttArn(queueLogicalId)));
  if (found.length !== 1) throw new Error(`expected one event source mapping on ${queueLogicalId}, found ${found.length}`);
  return found[0] as Resource;
}

const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const ref = (logicalId: string) => ({ Ref: logicalId });
const environmentOf = (logicalId: string) => z.object({ Variables: z.record(z.string(), z.unknown()) }).parse(resource(logicalId).Properties['Environment']).Variables;

// Packaging needs no AWS account or network: osls makes no AWS call for `package` (and has no telemetry),
// and the ARNs it cannot know (account, region) are CloudFormation pseudo parameters.
const frameworkEnv = process.env;

beforeAll(async () => {
  const [, print] = await Promise.all([
    run(process.execPath, [serverlessBin, 'package', '--stage', 'dev', '--region', 'ap-southeast-1'], { cwd: root, env: frameworkEnv }),
    run(process.execPath, [serverlessBin, 'print', '--stage', 'local', '--format', 'json'], { cwd: root, env: frameworkEnv }),
  ]);
  const template = templateSchema.parse(JSON.parse(await readFile(join(root, '.serverless/cloudformation-template-update-stack.json'), 'utf8')));
  resources = template.Resources;
  outputs = template.Outputs;
  printed = printedConfigSchema.parse(JSON.parse(print.stdout));
}, 120_000);

describe('serverless package (stage dev)', () => {
  it('creates the FIFO lanes queue: no content-based deduplication, no redrive, visibility ≥ the worker timeout, 1 MiB messages, encrypted', () => {
    // Prepare
    const workerTimeout = resource('WorkerLambdaFunction').Properties['Timeout'];

    // Act
    const lanes = resource('LanesQueue');

    // Assess
    expect(lanes.Type).toBe('AWS::SQS::Queue');
    expect(lanes.Properties).toEqual({
      QueueName: names.lanes,
      FifoQueue: true,
      ContentBasedDeduplication: false,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: DEFAULTS.lanesVisibilityTimeoutSeconds,
      MessageRetentionPeriod: DEFAULTS.queueRetentionSeconds,
      MaximumMessageSize: ONE_MIB,
    });
    expect(lanes.Properties).not.toHaveProperty('RedrivePolicy');
    expect(typeof workerTimeout).toBe('number');
    // Lambda refuses a mapping whose queue's visibility timeout is below the function timeout.
    expect(lanes.Properties['VisibilityTimeout']).toBeGreaterThanOrEqual(Number(workerTimeout));
  });

  it('creates the FIFO intake queue the same way, with its own visibility timeout', () => {
    // Prepare
    const workerTimeout = Number(resource('WorkerLambdaFunction').Properties['Timeout']);

    // Act
    const intake = resource('IntakeQueue');

    // Assess
    expect(intake.Type).toBe('AWS::SQS::Queue');
    expect(intake.Properties).toEqual({
      QueueName: names.intake,
      FifoQueue: true,
      ContentBasedDeduplication: false,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: DEFAULTS.intakeVisibilityTimeoutSeconds,
      MessageRetentionPeriod: DEFAULTS.queueRetentionSeconds,
      MaximumMessageSize: ONE_MIB,
    });
    expect(intake.Properties['VisibilityTimeout']).toBeGreaterThanOrEqual(workerTimeout);
  });

  it('agrees with the queues and the table a local run creates (scripts/local)', () => {
    // Prepare
    const d = localQueuesDefaults;

    // Act
    const lanes = resource('LanesQueue').Properties;
    const intake = resource('IntakeQueue').Properties;
    const dlq = resource('DeadLetterQueue').Properties;
    const table = resource('IdempotencyTable').Properties;

    // Assess
    expect(lanes).toMatchObject({ QueueName: names.lanes, VisibilityTimeout: d.lanesVisibilityTimeoutSeconds, MessageRetentionPeriod: d.retentionSeconds });
    expect(intake).toMatchObject({ QueueName: names.intake, VisibilityTimeout: d.intakeVisibilityTimeoutSeconds, MessageRetentionPeriod: d.retentionSeconds });
    expect(dlq).toMatchObject({ QueueName: names.deadLetter, MessageRetentionPeriod: d.deadLetterRetentionSeconds });
    expect(table['TableName']).toBe(names.idempotencyTable);
    expect(resource('WorkerLambdaFunction').Properties['Timeout']).toBe(DEFAULTS.workerTimeoutSeconds);
  });

  it('keeps dead letters encrypted for 14 days in a standard queue and alarms as soon as one arrives', () => {
    // Prepare
    const fourteenDays = 14 * 24 * 3600;

    // Act
    const dlq = resource('DeadLetterQueue');
    const alarms = ofType('AWS::CloudWatch::Alarm').filter((a) => a.Properties['MetricName'] === 'ApproximateNumberOfMessagesVisible');

    // Assess
    expect(dlq.Properties).toEqual({ QueueName: names.deadLetter, SqsManagedSseEnabled: true, MessageRetentionPeriod: fourteenDays, MaximumMessageSize: ONE_MIB });
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms when the oldest lane message is older than laneAgeAlarmSeconds', () => {
    // Prepare
    const metric = 'ApproximateAgeOfOldestMessage';

    // Act
    const alarms = ofType('AWS::CloudWatch::Alarm').filter((a) => a.Properties['MetricName'] === metric);

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['LanesQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: DEFAULTS.laneAgeAlarmSeconds,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('creates the idempotency table on demand, keyed by `id`, expiring records by TTL on `expiration`, encrypted', () => {
    // Prepare
    const table = resource('IdempotencyTable');

    // Act
    const properties = table.Properties;

    // Assess
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(properties).toEqual({
      TableName: names.idempotencyTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('maps the lanes (batches of 10, no batching window, the fleet size) and the intake queue to the worker, with partial batch failures', () => {
    // Prepare
    const worker = getAttArn('WorkerLambdaFunction');

    // Act
    const all = ofType('AWS::Lambda::EventSourceMapping');
    const lanes = mappingOf('LanesQueue').Properties;
    const intake = mappingOf('IntakeQueue').Properties;

    // Assess
    expect(all).toHaveLength(2);
    expect(lanes).toMatchObject({
      FunctionName: worker,
      BatchSize: DEFAULTS.workerBatchSize,
      ScalingConfig: { MaximumConcurrency: DEFAULTS.workerMaxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(intake).toMatchObject({
      FunctionName: worker,
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: DEFAULTS.intakeMaxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // FIFO mappings take at most 10 records and have no batching window.
    for (const mapping of [lanes, intake]) {
      expect(mapping).not.toHaveProperty('MaximumBatchingWindowInSeconds');
      expect(Number(mapping['BatchSize'])).toBeLessThanOrEqual(10);
    }
  });

  it('runs both functions on nodejs24.x arm64 with their role, the stack\'s queues and table, and the tunables of the defaults file', () => {
    // Prepare
    const ids = ['ApiLambdaFunction', 'WorkerLambdaFunction'];
    const tunables = {
      SECRET_CACHE_TTL_SECONDS: DEFAULTS.secretCacheTtlSeconds,
      IM_TIMEOUT_MS: DEFAULTS.imTimeoutMs,
      IM_RATE_LIMIT: DEFAULTS.imRateLimit,
      IM_PACING_MARGIN_MS: DEFAULTS.imPacingMarginMs,
      API_RATE_SHARE: DEFAULTS.apiRateShare,
      API_MAX_CONCURRENCY: DEFAULTS.apiMaxConcurrency,
      API_INLINE_CHUNKS: DEFAULTS.apiInlineChunks,
      API_INLINE_WAIT_MS: DEFAULTS.apiInlineWaitMs,
      WORKER_MAX_CONCURRENCY: DEFAULTS.workerMaxConcurrency,
      LANE_COUNT: DEFAULTS.laneCount,
      LANE_RETRY_MAX_SECONDS: DEFAULTS.laneRetryMaxSeconds,
      INTAKE_RETRY_WINDOW_SECONDS: DEFAULTS.intakeRetryWindowSeconds,
      OUTAGE_TOLERANCE_MINUTES: DEFAULTS.outageToleranceMinutes,
      IDEMPOTENCY_TTL_HOURS: DEFAULTS.idempotencyTtlHours,
      MAX_BODY_BYTES: DEFAULTS.maxBodyBytes,
      WEBHOOK_AUTH: DEFAULTS.webhookAuth,
      LOG_LEVEL: DEFAULTS.logLevel,
    };
    const stack = {
      SECRET_ID: 'tim-attr-gateway/dev',
      IM_REGION: DEFAULTS.imRegion,
      LANES_QUEUE_URL: ref('LanesQueue'),
      INTAKE_QUEUE_URL: ref('IntakeQueue'),
      DLQ_URL: ref('DeadLetterQueue'),
      IDEMPOTENCY_TABLE: ref('IdempotencyTable'),
    };

    // Act
    const functions = ids.map((id) => resource(id).Properties);
    const [apiEnv, workerEnv] = ids.map(environmentOf);

    // Assess
    for (const fn of functions) expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256 });
    expect(functions[0]).toMatchObject({ Timeout: 29, ReservedConcurrentExecutions: DEFAULTS.apiMaxConcurrency });
    expect(functions[1]).toMatchObject({ Timeout: DEFAULTS.workerTimeoutSeconds, ReservedConcurrentExecutions: DEFAULTS.workerReservedConcurrency });
    // The API cannot take the copies the lanes and intake mappings may use.
    expect(DEFAULTS.workerReservedConcurrency).toBeGreaterThanOrEqual(DEFAULTS.workerMaxConcurrency + DEFAULTS.intakeMaxConcurrency);
    const expected = { ...Object.fromEntries(Object.entries(tunables).map(([k, v]) => [k, String(v)])), ...stack };
    expect(apiEnv).toMatchObject({ FUNCTION_ROLE: 'api', ...expected });
    expect(workerEnv).toMatchObject({ FUNCTION_ROLE: 'worker', ...expected });
    for (const env of [apiEnv, workerEnv]) {
      expect(Object.keys(env ?? {}).filter((k) => ['OVERFLOW_QUEUE_URL', 'API_INLINE_CALLS'].includes(k))).toEqual([]);
    }
  });

  it('routes POST /v1/user-attrs of the HTTP API to the api function with payload 2.0', () => {
    // Prepare
    const routeKey = 'POST /v1/user-attrs';

    // Act
    const routes = ofType('AWS::ApiGatewayV2::Route');
    const integrations = ofType('AWS::ApiGatewayV2::Integration');

    // Assess
    expect(routes.map((r) => r.Properties['RouteKey'])).toEqual([routeKey]);
    expect(integrations).toHaveLength(1);
    expect(integrations[0]?.Properties).toMatchObject({ IntegrationUri: getAttArn('ApiLambdaFunction'), PayloadFormatVersion: '2.0' });
  });

  it('grants GetSecretValue on the one secret, SendMessage on the lanes and DLQ, ChangeMessageVisibility on the two source queues, item access on the table', () => {
    // Prepare
    const statements = roleStatements();
    const withAction = (action: string) => statements.filter((s) => s.Action.includes(action));

    // Act
    const secretStatements = statements.filter((s) => s.Action.some((a) => a.startsWith('secretsmanager:')));
    const secretArn = JSON.stringify(secretStatements[0]?.Resource);
    const dynamoStatements = statements.filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));

    // Assess
    expect(secretStatements).toHaveLength(1);
    expect(secretStatements[0]?.Action).toEqual(['secretsmanager:GetSecretValue']);
    expect(secretStatements[0]?.Resource).toHaveLength(1);
    expect(secretArn).toContain(':secret:tim-attr-gateway/dev-*');
    expect(secretArn).toContain('{"Ref":"AWS::AccountId"}');
    expect(withAction('sqs:SendMessage')).toEqual([{ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [getAttArn('LanesQueue'), getAttArn('DeadLetterQueue')] }]);
    expect(withAction('sqs:ChangeMessageVisibility')).toEqual([
      { Effect: 'Allow', Action: ['sqs:ChangeMessageVisibility'], Resource: [getAttArn('LanesQueue'), getAttArn('IntakeQueue')] },
    ]);
    expect(dynamoStatements).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], Resource: [getAttArn('IdempotencyTable')] },
    ]);
    // The event sources' receive and delete, added by the framework, on the two source queues only.
    expect(withAction('sqs:ReceiveMessage').flatMap((s) => s.Resource)).toEqual([getAttArn('LanesQueue'), getAttArn('IntakeQueue')]);
  });

  it('grants nothing on Resource "*" and nothing beyond logging, the secret, the queues and the table', () => {
    // Prepare
    const statements = roleStatements();
    const allowed = new Set([
      'logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource', 'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage', 'sqs:ChangeMessageVisibility', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes',
      'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem',
    ]);
    const ownLogGroups = 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/tim-attr-gateway-dev';

    // Act
    const actions = statements.flatMap((s) => s.Action);
    const resourcesGranted = statements.flatMap((s) => s.Resource);
    const logResources = statements.filter((s) => s.Action.every((a) => a.startsWith('logs:'))).flatMap((s) => s.Resource);

    // Assess
    expect(actions.filter((a) => !allowed.has(a))).toEqual([]);
    expect(resourcesGranted).not.toContain('*');
    expect(actions.some((a) => a.includes('*'))).toBe(false);
    expect(logResources.length).toBeGreaterThan(0);
    for (const r of logResources) expect(z.object({ 'Fn::Sub': z.string() }).parse(r)['Fn::Sub'].startsWith(ownLogGroups)).toBe(true);
    expect(roleSchema.parse(resource('IamRoleLambdaExecution').Properties).ManagedPolicyArns).toBeUndefined();
  });

  it('outputs the queue URLs and the table name', () => {
    // Prepare
    const expected = {
      LanesQueueUrl: ref('LanesQueue'),
      IntakeQueueUrl: ref('IntakeQueue'),
      DeadLetterQueueUrl: ref('DeadLetterQueue'),
      IdempotencyTableName: ref('IdempotencyTable'),
    };

    // Act
    const values = Object.fromEntries(Object.keys(expected).map((key) => [key, outputs[key]?.Value]));

    // Assess
    expect(values).toEqual(expected);
    expect(Object.keys(outputs).filter((key) => key.startsWith('Overflow'))).toEqual([]);
  });
});

describe('serverless print (stage local, as npm start runs it)', () => {
  it('takes params.default from lib/config/defaults.json, key for key', () => {
    // Prepare
    const params = printed.params.default;
    const shared = Object.keys(DEFAULTS).filter((key) => key in params);

    // Act
    const differing = shared.filter((key) => params[key] !== DEFAULTS[key as keyof typeof DEFAULTS]);

    // Assess
    expect(differing).toEqual([]);
    // Every tunable the template uses is shared; the removed ones are gone.
    expect(shared).toEqual(expect.arrayContaining([
      'workerBatchSize', 'workerMaxConcurrency', 'workerTimeoutSeconds', 'intakeMaxConcurrency', 'laneCount',
      'lanesVisibilityTimeoutSeconds', 'intakeVisibilityTimeoutSeconds', 'queueRetentionSeconds', 'dlqRetentionSeconds',
      'laneAgeAlarmSeconds', 'apiInlineChunks', 'imRateLimit', 'apiRateShare', 'apiMaxConcurrency',
    ]));
    for (const removed of ['workerBatchingWindowSeconds', 'overflowVisibilityTimeoutSeconds', 'maxReceiveCount', 'apiInlineCalls', 'overflowAgeAlarmSeconds']) {
      expect(params).not.toHaveProperty(removed);
    }
    expect(printed.service).toBe(DEFAULTS.service);
  });

  it('leaves SECRET_ID, IM_REGION, the queue URLs and the table to the local environment', () => {
    // Prepare
    const deployedOnly = ['SECRET_ID', 'IM_REGION', 'LANES_QUEUE_URL', 'INTAKE_QUEUE_URL', 'DLQ_URL', 'IDEMPOTENCY_TABLE'];

    // Act
    const present = deployedOnly.filter((name) => name in printed.provider.environment);

    // Assess
    expect(present).toEqual([]);
    expect(printed.provider.environment['IM_RATE_LIMIT']).toBe(String(DEFAULTS.imRateLimit));
    expect(printed.provider.environment['LANE_COUNT']).toBe(String(DEFAULTS.laneCount));
  });
});
