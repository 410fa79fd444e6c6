import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import { localQueuesDefaults } from '../../local/local-queues.ts';
import { resourceNames } from '../../lib/config/resource-names.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const serverlessBin = join(root, 'node_modules/serverless/bin/serverless.js');
const run = promisify(execFile);

const resourceSchema = z.object({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).default({}),
  DependsOn: z.unknown().optional(),
});
const templateSchema = z.object({
  Conditions: z.record(z.string(), z.unknown()).default({}),
  Resources: z.record(z.string(), resourceSchema),
  Outputs: z.record(z.string(), z.object({ Value: z.unknown() })),
});
const statementSchema = z
  .object({ Effect: z.literal('Allow'), Action: z.array(z.string()), Resource: z.array(z.unknown()) })
  .strict();
const roleSchema = z
  .object({
    AssumeRolePolicyDocument: z.unknown(),
    Policies: z.array(
      z.object({
        PolicyName: z.string(),
        PolicyDocument: z.object({ Version: z.string(), Statement: z.array(statementSchema) }),
      }),
    ),
  })
  .strict();
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
let conditions: Record<string, unknown>;
let outputs: Record<string, { Value: unknown }>;
/** The template packaged with `webhookAuth=none` and an alarm topic. */
let iamMode: Record<string, Resource>;
let iamModeConditions: Record<string, unknown>;
let printed: z.infer<typeof printedConfigSchema>;

function resource(logicalId: string): Resource {
  const found = resources[logicalId];
  if (found === undefined) throw new Error(`the template has no ${logicalId}`);
  return found;
}

function ofType(type: string): Resource[] {
  return Object.values(resources).filter((r) => r.Type === type);
}

function roleStatements(logicalId: string): Statement[] {
  const role = roleSchema.parse(resource(logicalId).Properties);
  return role.Policies.flatMap((p) => p.PolicyDocument.Statement);
}

/** The one policy statement of a role granting `action`. */
function grantOf(logicalId: string, action: string): Statement[] {
  return roleStatements(logicalId).filter((s) => s.Action.includes(action));
}

const ALARM_TOPIC = 'arn:aws:sns:ap-southeast-1:123456789012:tim-attr-gateway-ops';

function mappingOf(queueLogicalId: string): Resource {
  const found = ofType('AWS::Lambda::EventSourceMapping').filter(
    (m) => JSON.stringify(m.Properties['EventSourceArn']) === JSON.stringify(getAttArn(queueLogicalId)),
  );
  if (found.length !== 1)
    throw new Error(`expected one event source mapping on ${queueLogicalId}, found ${found.length}`);
  return found[0] as Resource;
}

const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const ref = (logicalId: string) => ({ Ref: logicalId });
const environmentOf = (logicalId: string) =>
  z.object({ Variables: z.record(z.string(), z.unknown()) }).parse(resource(logicalId).Properties['Environment'])
    .Variables;

// Packaging needs no AWS account or network: osls makes no AWS call for `package` (and has no telemetry),
// and the ARNs it cannot know (account, region) are CloudFormation pseudo parameters.
const frameworkEnv = process.env;

beforeAll(async () => {
  const [, print] = await Promise.all([
    run(process.execPath, [serverlessBin, 'package', '--stage', 'dev', '--region', 'ap-southeast-1'], {
      cwd: root,
      env: frameworkEnv,
    }),
    run(process.execPath, [serverlessBin, 'print', '--stage', 'local', '--format', 'json'], {
      cwd: root,
      env: frameworkEnv,
    }),
  ]);
  const template = templateSchema.parse(
    JSON.parse(await readFile(join(root, '.serverless/cloudformation-template-update-stack.json'), 'utf8')),
  );
  resources = template.Resources;
  conditions = template.Conditions;
  outputs = template.Outputs;
  printed = printedConfigSchema.parse(JSON.parse(print.stdout));
  // After the first: both builds write the same esbuild work directory.
  const other = await mkdtemp(join(tmpdir(), 'tim-package-iam-'));
  try {
    await run(
      process.execPath,
      [
        serverlessBin,
        'package',
        '--stage',
        'dev',
        '--region',
        'ap-southeast-1',
        '--param=webhookAuth=none',
        `--param=alarmTopicArn=${ALARM_TOPIC}`,
        '--package',
        other,
      ],
      { cwd: root, env: frameworkEnv },
    );
    const iamTemplate = templateSchema.parse(
      JSON.parse(await readFile(join(other, 'cloudformation-template-update-stack.json'), 'utf8')),
    );
    iamMode = iamTemplate.Resources;
    iamModeConditions = iamTemplate.Conditions;
  } finally {
    await rm(other, { recursive: true, force: true });
  }
}, 180_000);

describe('serverless package (stage dev)', () => {
  it('creates the FIFO lanes queue in high-throughput mode: no content-based deduplication, no redrive, visibility ≥ the worker timeout, 1 MiB messages, encrypted', () => {
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
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
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
    expect(lanes).toMatchObject({
      QueueName: names.lanes,
      VisibilityTimeout: d.lanesVisibilityTimeoutSeconds,
      MessageRetentionPeriod: d.retentionSeconds,
    });
    expect(intake).toMatchObject({
      QueueName: names.intake,
      VisibilityTimeout: d.intakeVisibilityTimeoutSeconds,
      MessageRetentionPeriod: d.retentionSeconds,
    });
    expect(dlq).toMatchObject({ QueueName: names.deadLetter, MessageRetentionPeriod: d.deadLetterRetentionSeconds });
    expect(table['TableName']).toBe(names.idempotencyTable);
    expect(resource('WorkerLambdaFunction').Properties['Timeout']).toBe(DEFAULTS.workerTimeoutSeconds);
  });

  it('keeps dead letters encrypted for 14 days in a standard queue and alarms as soon as one arrives', () => {
    // Prepare
    const fourteenDays = 14 * 24 * 3600;

    // Act
    const dlq = resource('DeadLetterQueue');
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(
      (a) => a.Properties['MetricName'] === 'ApproximateNumberOfMessagesVisible',
    );

    // Assess
    expect(dlq.Properties).toEqual({
      QueueName: names.deadLetter,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: fourteenDays,
      MaximumMessageSize: ONE_MIB,
    });
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms when the oldest lane message, or the oldest intake message, is older than laneAgeAlarmSeconds', () => {
    // Prepare
    const metric = 'ApproximateAgeOfOldestMessage';

    // Act
    const alarms = ofType('AWS::CloudWatch::Alarm').filter((a) => a.Properties['MetricName'] === metric);

    // Assess
    expect(alarms).toHaveLength(2);
    for (const [index, queue] of ['LanesQueue', 'IntakeQueue'].entries()) {
      expect(alarms[index]?.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: DEFAULTS.laneAgeAlarmSeconds,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
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

  it("runs both functions on nodejs24.x arm64 with their role, the stack's queues and table, and the tunables of the defaults file", () => {
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
      WORKER_RESERVED_CONCURRENCY: DEFAULTS.workerReservedConcurrency,
      IM_BUDGET_MARGIN: DEFAULTS.imBudgetMarginPerSecond,
      WORKER_FLOOR_RATE: DEFAULTS.workerFloorRate,
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
      BUDGET_TABLE: ref('BudgetTable'),
    };

    // Act
    const functions = ids.map((id) => resource(id).Properties);
    const [apiEnv, workerEnv] = ids.map(environmentOf);

    // Assess
    for (const fn of functions)
      expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256 });
    expect(functions[0]).toMatchObject({ Timeout: 29, ReservedConcurrentExecutions: DEFAULTS.apiMaxConcurrency });
    expect(functions[1]).toMatchObject({
      Timeout: DEFAULTS.workerTimeoutSeconds,
      ReservedConcurrentExecutions: DEFAULTS.workerReservedConcurrency,
    });
    // The API cannot take the copies the lanes and intake mappings may use.
    expect(DEFAULTS.workerReservedConcurrency).toBeGreaterThanOrEqual(
      DEFAULTS.workerMaxConcurrency + DEFAULTS.intakeMaxConcurrency,
    );
    const expected = { ...Object.fromEntries(Object.entries(tunables).map(([k, v]) => [k, String(v)])), ...stack };
    expect(apiEnv).toMatchObject({ FUNCTION_ROLE: 'api', ...expected });
    expect(workerEnv).toMatchObject({ FUNCTION_ROLE: 'worker', ...expected });
    for (const env of [apiEnv, workerEnv]) {
      expect(Object.keys(env ?? {}).filter((k) => ['OVERFLOW_QUEUE_URL', 'API_INLINE_CALLS'].includes(k))).toEqual([]);
    }
  });

  it('routes POST /v1/user-attrs and POST /v1/user-tags of the HTTP API to the api function with payload 2.0', () => {
    // Prepare
    const routeKeys = ['POST /v1/user-attrs', 'POST /v1/user-tags'];

    // Act
    const routes = ofType('AWS::ApiGatewayV2::Route');
    const integrations = ofType('AWS::ApiGatewayV2::Integration');

    // Assess
    expect(routes.map((r) => r.Properties['RouteKey']).sort()).toEqual(routeKeys);
    expect(integrations).toHaveLength(1);
    expect(integrations[0]?.Properties).toMatchObject({
      IntegrationUri: getAttArn('ApiLambdaFunction'),
      PayloadFormatVersion: '2.0',
    });
  });

  it('gives each function its own role and no shared one', () => {
    // Prepare
    const roles = ofType('AWS::IAM::Role');

    // Act
    const api = resource('ApiLambdaFunction');
    const worker = resource('WorkerLambdaFunction');

    // Assess
    expect(roles).toHaveLength(2);
    expect(resources).not.toHaveProperty('IamRoleLambdaExecution');
    expect(api.Properties['Role']).toEqual(getAttArn('ApiRole'));
    expect(worker.Properties['Role']).toEqual(getAttArn('WorkerRole'));
    for (const id of ['ApiRole', 'WorkerRole']) {
      expect(resource(id).Properties['AssumeRolePolicyDocument']).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
    }
    // The mappings are created once the worker's role (and its receive rights) exists.
    for (const queue of ['LanesQueue', 'IntakeQueue']) expect(mappingOf(queue).DependsOn).toEqual(['WorkerRole']);
  });

  it('lets the API read its two secrets (ARNs ending -??????), send to the lanes, use the idempotency table, lease from the budget table and write its own logs: nothing else', () => {
    // Prepare
    const statements = roleStatements('ApiRole');

    // Act
    const [credentialsArn, webhookArn] = grantOf('ApiRole', 'secretsmanager:GetSecretValue').map((g) =>
      JSON.stringify(g.Resource),
    );

    // Assess
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [getAttArn('ApiLogGroup')] },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [expect.anything()] },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [expect.anything()] },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [getAttArn('LanesQueue')] },
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: [getAttArn('IdempotencyTable')],
      },
      { Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [getAttArn('BudgetTable')] },
    ]);
    expect(credentialsArn).toContain(':secret:tim-attr-gateway/dev-??????"');
    expect(webhookArn).toContain(':secret:tim-attr-gateway/dev/webhook-??????"');
    for (const arn of [credentialsArn, webhookArn]) {
      expect(arn).not.toContain('-*');
      expect(arn).toContain('{"Ref":"AWS::AccountId"}');
    }
    expect(environmentOf('ApiLambdaFunction')['WEBHOOK_SECRET_ID']).toBe('tim-attr-gateway/dev/webhook');
    expect(resource('ApiLogGroup').Properties['LogGroupName']).toBe('/aws/lambda/tim-attr-gateway-dev-api');
  });

  it('lets the worker receive, delete, delay and inspect its two source queues, send to lanes and the DLQ, read the IM credentials (not the webhook secret), lease from the budget table and write its own logs: nothing else', () => {
    // Prepare
    const statements = roleStatements('WorkerRole');

    // Act
    const secret = grantOf('WorkerRole', 'secretsmanager:GetSecretValue');

    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [getAttArn('WorkerLogGroup')],
      },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [expect.anything()] },
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        Resource: [getAttArn('LanesQueue'), getAttArn('IntakeQueue')],
      },
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: [getAttArn('LanesQueue'), getAttArn('DeadLetterQueue')],
      },
      { Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [getAttArn('BudgetTable')] },
    ]);
    expect(secret).toEqual(grantOf('ApiRole', 'secretsmanager:GetSecretValue').slice(0, 1));
    expect(JSON.stringify(secret)).not.toContain('/webhook');
    expect(environmentOf('WorkerLambdaFunction')['WEBHOOK_SECRET_ID']).toBeUndefined();
    expect(resource('WorkerLogGroup').Properties['LogGroupName']).toBe('/aws/lambda/tim-attr-gateway-dev-worker');
  });

  it('grants nothing on Resource "*" and no wildcard action in either role', () => {
    // Prepare
    const statements = [...roleStatements('ApiRole'), ...roleStatements('WorkerRole')];

    // Act
    const resourcesGranted = statements.flatMap((s) => s.Resource);
    const actions = statements.flatMap((s) => s.Action);

    // Assess
    expect(resourcesGranted).not.toContain('*');
    expect(actions.some((a) => a.includes('*'))).toBe(false);
  });

  it("refuses every queue without TLS; only the gateway's roles send to the lanes, only the worker consumes lanes and intake, only it writes dead letters", () => {
    // Prepare
    const policies = ofType('AWS::SQS::QueuePolicy');
    const denyWithoutTls = (queue: string) => ({
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:*',
      Resource: getAttArn(queue),
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const onlyTheWorkerConsumes = (queue: string) => ({
      Sid: 'OnlyTheWorkerConsumes',
      Effect: 'Deny',
      Principal: '*',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:PurgeQueue'],
      Resource: getAttArn(queue),
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [getAttArn('WorkerRole')] } },
    });

    // Act
    const statementsOf = (id: string) =>
      z.object({ Statement: z.array(z.unknown()) }).parse(resource(id).Properties['PolicyDocument']).Statement;

    // Assess
    expect(policies).toHaveLength(3);
    expect(resource('LanesQueuePolicy').Properties['Queues']).toEqual([ref('LanesQueue')]);
    expect(resource('IntakeQueuePolicy').Properties['Queues']).toEqual([ref('IntakeQueue')]);
    expect(resource('DeadLetterQueuePolicy').Properties['Queues']).toEqual([ref('DeadLetterQueue')]);
    expect(statementsOf('LanesQueuePolicy')).toEqual([
      denyWithoutTls('LanesQueue'),
      {
        Sid: 'OnlyTheGatewaySends',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:SendMessage',
        Resource: getAttArn('LanesQueue'),
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [getAttArn('ApiRole'), getAttArn('WorkerRole')] } },
      },
      onlyTheWorkerConsumes('LanesQueue'),
    ]);
    expect(statementsOf('IntakeQueuePolicy').slice(0, 2)).toEqual([
      denyWithoutTls('IntakeQueue'),
      onlyTheWorkerConsumes('IntakeQueue'),
    ]);
    expect(statementsOf('DeadLetterQueuePolicy').slice(0, 2)).toEqual([
      denyWithoutTls('DeadLetterQueue'),
      {
        Sid: 'OnlyTheWorkerSends',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:SendMessage',
        Resource: getAttArn('DeadLetterQueue'),
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [getAttArn('WorkerRole')] } },
      },
    ]);
  });

  it('lets only the operatorPrincipals read, delete, delay or purge dead letters when they are set, and adds no such deny when empty (the default)', () => {
    // Prepare
    const statements = z
      .object({ Statement: z.array(z.unknown()) })
      .parse(resource('DeadLetterQueuePolicy').Properties['PolicyDocument']).Statement;

    // Act
    const operatorsOnly = statements[2];

    // Assess
    expect(DEFAULTS.operatorPrincipals).toEqual([]);
    expect(conditions['HasOperatorPrincipals']).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', DEFAULTS.operatorPrincipals] }, ''] }],
    });
    expect(operatorsOnly).toEqual({
      'Fn::If': [
        'HasOperatorPrincipals',
        {
          Sid: 'OnlyTheOperatorsConsume',
          Effect: 'Deny',
          Principal: '*',
          Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:PurgeQueue'],
          Resource: getAttArn('DeadLetterQueue'),
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': DEFAULTS.operatorPrincipals } },
        },
        ref('AWS::NoValue'),
      ],
    });
  });

  it('lets the producerPrincipals send to the intake queue, and grants nothing there when the list is empty (the default)', () => {
    // Prepare
    const statements = z
      .object({ Statement: z.array(z.unknown()) })
      .parse(resource('IntakeQueuePolicy').Properties['PolicyDocument']).Statement;

    // Act
    const grant = statements[2];

    // Assess
    expect(DEFAULTS.producerPrincipals).toEqual([]);
    expect(conditions['HasProducerPrincipals']).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', DEFAULTS.producerPrincipals] }, ''] }],
    });
    expect(grant).toEqual({
      'Fn::If': [
        'HasProducerPrincipals',
        {
          Sid: 'ProducersSend',
          Effect: 'Allow',
          Principal: { AWS: DEFAULTS.producerPrincipals },
          Action: ['sqs:SendMessage', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
          Resource: getAttArn('IntakeQueue'),
        },
        ref('AWS::NoValue'),
      ],
    });
  });

  it('throttles the HTTP API stage at apiRateLimit requests/s with a burst of apiBurstLimit', () => {
    // Prepare
    const stage = resource('HttpApiStage');

    // Act
    const settings = stage.Properties['DefaultRouteSettings'];

    // Assess
    expect(stage.Properties).toMatchObject({ StageName: '$default', AutoDeploy: true });
    expect(settings).toEqual({
      ThrottlingRateLimit: DEFAULTS.apiRateLimit,
      ThrottlingBurstLimit: DEFAULTS.apiBurstLimit,
    });
    expect(DEFAULTS.apiRateLimit).toBeGreaterThan(0);
    expect(DEFAULTS.apiBurstLimit).toBeGreaterThanOrEqual(DEFAULTS.apiRateLimit);
  });

  it("puts API Gateway's IAM authorization on the route when webhookAuth is none, and none with signed webhooks", () => {
    // Prepare
    const routeOf = (all: Record<string, Resource>) =>
      Object.values(all).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');

    // Act
    const signedRoutes = routeOf(resources);
    const iamRoutes = routeOf(iamMode);

    // Assess
    expect(signedRoutes).toHaveLength(2);
    for (const route of signedRoutes) expect(route.Properties).not.toHaveProperty('AuthorizationType');
    expect(
      iamRoutes.map((r) => r.Properties).sort((a, b) => String(a['RouteKey']).localeCompare(String(b['RouteKey']))),
    ).toEqual([
      expect.objectContaining({ RouteKey: 'POST /v1/user-attrs', AuthorizationType: 'AWS_IAM' }),
      expect.objectContaining({ RouteKey: 'POST /v1/user-tags', AuthorizationType: 'AWS_IAM' }),
    ]);
    expect(
      z
        .object({ Variables: z.record(z.string(), z.unknown()) })
        .parse(iamMode['ApiLambdaFunction']?.Properties['Environment']).Variables['WEBHOOK_AUTH'],
    ).toBe('none');
  });

  it('notifies alarmTopicArn on alarm and on recovery from every alarm, and attaches no action when it is empty (the default)', () => {
    // Prepare
    const alarms = ofType('AWS::CloudWatch::Alarm');
    const iamModeAlarms = Object.values(iamMode).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');

    // Act
    const actionsOf = (topic: string) => [{ 'Fn::If': ['HasAlarmTopic', topic, ref('AWS::NoValue')] }];

    // Assess
    expect(DEFAULTS.alarmTopicArn).toBe('');
    expect(alarms).toHaveLength(4);
    expect(conditions['HasAlarmTopic']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    for (const alarm of alarms)
      expect(alarm.Properties).toMatchObject({ AlarmActions: actionsOf(''), OKActions: actionsOf('') });
    expect(iamModeConditions['HasAlarmTopic']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [ALARM_TOPIC, ''] }] });
    expect(iamModeAlarms).toHaveLength(4);
    for (const alarm of iamModeAlarms)
      expect(alarm.Properties).toMatchObject({
        AlarmActions: actionsOf(ALARM_TOPIC),
        OKActions: actionsOf(ALARM_TOPIC),
      });
  });

  it('outputs the queue URLs, the table names, the secret name and the IM region', () => {
    // Prepare
    const expected = {
      LanesQueueUrl: ref('LanesQueue'),
      IntakeQueueUrl: ref('IntakeQueue'),
      DeadLetterQueueUrl: ref('DeadLetterQueue'),
      IdempotencyTableName: ref('IdempotencyTable'),
      BudgetTableName: ref('BudgetTable'),
      SecretName: 'tim-attr-gateway/dev',
      ImRegion: DEFAULTS.imRegion,
    };

    // Act
    const values = Object.fromEntries(Object.keys(expected).map((key) => [key, outputs[key]?.Value]));

    // Assess
    expect(values).toEqual(expected);
    expect(Object.keys(outputs).filter((key) => key.startsWith('Overflow'))).toEqual([]);
  });
});

describe('serverless package: the dashboard', () => {
  it("builds the dashboard from this template's own resources, names the stage's metrics service, and outputs its URL", () => {
    // Prepare
    const dashboard = resource('Dashboard');
    const body = z.object({ 'Fn::Sub': z.string() }).parse(dashboard.Properties['DashboardBody'])['Fn::Sub'];

    // Act
    const substituted = [
      ...new Set([...body.matchAll(/\$\{([^}]+)\}/g)].map(([, name = '']) => name.split('.')[0] ?? '')),
    ];

    // Assess: test/deploy/dashboard.test.ts checks the panels themselves.
    expect(dashboard.Type).toBe('AWS::CloudWatch::Dashboard');
    expect(substituted.filter((id) => id !== 'AWS::Region' && resources[id] === undefined)).toEqual([]);
    expect(substituted).toEqual(
      expect.arrayContaining([
        'HttpApi',
        'ApiLambdaFunction',
        'WorkerLambdaFunction',
        'LanesQueue',
        'IntakeQueue',
        'DeadLetterQueue',
      ]),
    );
    expect(resource('HttpApi').Type).toBe('AWS::ApiGatewayV2::Api');
    for (const id of ['ApiLambdaFunction', 'WorkerLambdaFunction'])
      expect(environmentOf(id)['POWERTOOLS_SERVICE_NAME']).toBe('tim-attr-gateway-dev');
    expect(outputs['DashboardUrl']?.Value).toEqual({
      'Fn::Sub':
        'https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${Dashboard}',
    });
  });
});

describe('serverless print (stage local, as npm start runs it)', () => {
  it('takes params.default from lib/config/defaults.json, key for key', () => {
    // Prepare
    const params = printed.params.default;
    const shared = Object.keys(DEFAULTS).filter((key) => key in params);

    // Act
    const differing = shared.filter(
      (key) => JSON.stringify(params[key]) !== JSON.stringify(DEFAULTS[key as keyof typeof DEFAULTS]),
    );

    // Assess
    expect(differing).toEqual([]);
    // Every tunable the template uses is shared; the removed ones are gone.
    expect(shared).toEqual(
      expect.arrayContaining([
        'workerBatchSize',
        'workerMaxConcurrency',
        'workerTimeoutSeconds',
        'intakeMaxConcurrency',
        'laneCount',
        'lanesVisibilityTimeoutSeconds',
        'intakeVisibilityTimeoutSeconds',
        'queueRetentionSeconds',
        'dlqRetentionSeconds',
        'laneAgeAlarmSeconds',
        'apiInlineChunks',
        'imRateLimit',
        'apiRateShare',
        'apiMaxConcurrency',
        'imBudgetMarginPerSecond',
        'workerFloorRate',
        'apiRateLimit',
        'apiBurstLimit',
        'producerPrincipals',
        'alarmTopicArn',
      ]),
    );
    for (const removed of [
      'workerBatchingWindowSeconds',
      'overflowVisibilityTimeoutSeconds',
      'maxReceiveCount',
      'apiInlineCalls',
      'overflowAgeAlarmSeconds',
    ]) {
      expect(params).not.toHaveProperty(removed);
    }
    expect(printed.service).toBe(DEFAULTS.service);
  });

  it("takes npm start's IM_RATE_LIMIT for the local functions, so every part of a local run paces to the same limit", async () => {
    // Act
    const lowered = await run(process.execPath, [serverlessBin, 'print', '--stage', 'local', '--format', 'json'], {
      cwd: root,
      env: { ...frameworkEnv, IM_RATE_LIMIT: '10' },
    });

    // Assess
    expect(String(printedConfigSchema.parse(JSON.parse(lowered.stdout)).provider.environment['IM_RATE_LIMIT'])).toBe(
      '10',
    );
    expect(String(printed.provider.environment['IM_RATE_LIMIT'])).toBe(String(DEFAULTS.imRateLimit));
  }, 60_000);

  it('gives the local API the metrics service npm start gives the local worker: one name per stage', () => {
    // Act
    const apiService = printed.provider.environment['POWERTOOLS_SERVICE_NAME'];

    // Assess
    expect(apiService).toBe(resourceNames('local').metricsService);
    expect(apiService).toBe('tim-attr-gateway-local');
  });

  it('leaves SECRET_ID, IM_REGION, the queue URLs and the table to the local environment', () => {
    // Prepare
    const deployedOnly = [
      'SECRET_ID',
      'IM_REGION',
      'LANES_QUEUE_URL',
      'INTAKE_QUEUE_URL',
      'DLQ_URL',
      'IDEMPOTENCY_TABLE',
      'BUDGET_TABLE',
    ];

    // Act
    const present = deployedOnly.filter((name) => name in printed.provider.environment);

    // Assess
    expect(present).toEqual([]);
    expect(printed.provider.environment['IM_RATE_LIMIT']).toBe(String(DEFAULTS.imRateLimit));
    expect(printed.provider.environment['LANE_COUNT']).toBe(String(DEFAULTS.laneCount));
  });
});
