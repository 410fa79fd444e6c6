import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { queueNames, serviceDefaults } from '../../scripts/local/service-defaults.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const serverlessBin = join(root, 'node_modules/serverless/bin/serverless.js');
const run = promisify(execFile);

const resourceSchema = z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).default({}) });
const templateSchema = z.object({ Resources: z.record(z.string(), resourceSchema) });
const statementSchema = z.object({ Effect: z.literal('Allow'), Action: z.array(z.string()), Resource: z.array(z.unknown()) });
const roleSchema = z.object({
  Policies: z.array(z.object({ PolicyDocument: z.object({ Statement: z.array(statementSchema) }) })),
  ManagedPolicyArns: z.array(z.unknown()).optional(),
});
const printedConfigSchema = z.object({ provider: z.object({ environment: z.record(z.string(), z.unknown()) }) });

type Resource = z.infer<typeof resourceSchema>;
type Statement = z.infer<typeof statementSchema>;

let resources: Record<string, Resource>;
let localEnvironment: Record<string, unknown>;

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

const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const environmentOf = (logicalId: string) => z.object({ Variables: z.record(z.string(), z.unknown()) }).parse(resource(logicalId).Properties['Environment']).Variables;

// Packaging needs no AWS account or network: osls makes no AWS call for `package` (and has no telemetry),
// and the ARNs it cannot know (account, region) are CloudFormation pseudo parameters.
const frameworkEnv = process.env;

beforeAll(async () => {
  const [, printed] = await Promise.all([
    run(process.execPath, [serverlessBin, 'package', '--stage', 'dev', '--region', 'ap-southeast-1'], { cwd: root, env: frameworkEnv }),
    run(process.execPath, [serverlessBin, 'print', '--stage', 'local', '--format', 'json'], { cwd: root, env: frameworkEnv }),
  ]);
  const template = templateSchema.parse(JSON.parse(await readFile(join(root, '.serverless/cloudformation-template-update-stack.json'), 'utf8')));
  resources = template.Resources;
  localEnvironment = printedConfigSchema.parse(JSON.parse(printed.stdout)).provider.environment;
}, 120_000);

describe('serverless package (stage dev)', () => {
  it('creates the overflow queue encrypted, with a visibility timeout of at least 6 x the worker timeout, redriving to the DLQ after 5 receives', () => {
    // Prepare
    const names = queueNames('dev');

    // Act
    const overflow = resource('OverflowQueue');
    const workerTimeout = resource('WorkerLambdaFunction').Properties['Timeout'];

    // Assess
    expect(overflow.Type).toBe('AWS::SQS::Queue');
    expect(overflow.Properties).toMatchObject({
      QueueName: names.overflow,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: getAttArn('DeadLetterQueue'), maxReceiveCount: 5 },
    });
    expect(typeof workerTimeout).toBe('number');
    expect(overflow.Properties['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * Number(workerTimeout));
  });

  it('agrees with the figures a local run copies (scripts/local/service-defaults.ts)', () => {
    // Prepare
    const d = serviceDefaults;

    // Act
    const overflow = resource('OverflowQueue').Properties;
    const dlq = resource('DeadLetterQueue').Properties;

    // Assess
    expect(overflow).toMatchObject({
      VisibilityTimeout: d.overflowVisibilityTimeoutSeconds,
      MessageRetentionPeriod: d.overflowRetentionSeconds,
      RedrivePolicy: { maxReceiveCount: d.maxReceiveCount },
    });
    expect(dlq['MessageRetentionPeriod']).toBe(d.dlqRetentionSeconds);
    expect(resource('WorkerLambdaFunction').Properties['Timeout']).toBe(d.workerTimeoutSeconds);
  });

  it('keeps dead letters encrypted for 14 days and alarms as soon as one arrives', () => {
    // Prepare
    const fourteenDays = 14 * 24 * 3600;

    // Act
    const dlq = resource('DeadLetterQueue');
    const alarms = ofType('AWS::CloudWatch::Alarm').filter((a) => a.Properties['MetricName'] === 'ApproximateNumberOfMessagesVisible');

    // Assess
    expect(dlq.Properties).toMatchObject({ QueueName: queueNames('dev').deadLetter, SqsManagedSseEnabled: true, MessageRetentionPeriod: fourteenDays });
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('maps the overflow queue to the worker with partial batch failures and the fleet budget numbers', () => {
    // Prepare
    const workerEnv = environmentOf('WorkerLambdaFunction');

    // Act
    const mappings = ofType('AWS::Lambda::EventSourceMapping');

    // Assess
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      EventSourceArn: getAttArn('OverflowQueue'),
      FunctionName: getAttArn('WorkerLambdaFunction'),
      BatchSize: serviceDefaults.workerBatchSize,
      MaximumBatchingWindowInSeconds: serviceDefaults.workerBatchingWindowSeconds,
      ScalingConfig: { MaximumConcurrency: serviceDefaults.workerMaxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(workerEnv['WORKER_MAX_CONCURRENCY']).toBe(String(serviceDefaults.workerMaxConcurrency));
  });

  it('runs both functions on nodejs24.x arm64 with their role and the budget their copies share', () => {
    // Prepare
    const ids = ['ApiLambdaFunction', 'WorkerLambdaFunction'];

    // Act
    const functions = ids.map((id) => resource(id).Properties);
    const [apiEnv, workerEnv] = ids.map(environmentOf);

    // Assess
    for (const fn of functions) expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256 });
    expect(functions[0]).toMatchObject({ Timeout: 29, ReservedConcurrentExecutions: Number(apiEnv?.['API_MAX_CONCURRENCY']) });
    expect(functions[1]).toMatchObject({ Timeout: serviceDefaults.workerTimeoutSeconds });
    expect(apiEnv).toMatchObject({ FUNCTION_ROLE: 'api', IM_RATE_LIMIT: '100', SECRET_ID: 'tim-attr-gateway/dev', OVERFLOW_QUEUE_URL: { Ref: 'OverflowQueue' }, DLQ_URL: { Ref: 'DeadLetterQueue' } });
    expect(workerEnv).toMatchObject({ FUNCTION_ROLE: 'worker', IM_RATE_LIMIT: '100', API_RATE_SHARE: apiEnv?.['API_RATE_SHARE'] });
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

  it('grants GetSecretValue on the one secret only and SendMessage on the two queues only', () => {
    // Prepare
    const statements = roleStatements();

    // Act
    const secretStatements = statements.filter((s) => s.Action.some((a) => a.startsWith('secretsmanager:')));
    const sendStatements = statements.filter((s) => s.Action.includes('sqs:SendMessage'));
    const secretArn = JSON.stringify(secretStatements[0]?.Resource);

    // Assess
    expect(secretStatements).toHaveLength(1);
    expect(secretStatements[0]?.Action).toEqual(['secretsmanager:GetSecretValue']);
    expect(secretStatements[0]?.Resource).toHaveLength(1);
    expect(secretArn).toContain(':secret:tim-attr-gateway/dev-*');
    expect(secretArn).toContain('{"Ref":"AWS::AccountId"}');
    expect(sendStatements).toHaveLength(1);
    expect(sendStatements[0]?.Action).toEqual(['sqs:SendMessage']);
    expect(sendStatements[0]?.Resource).toEqual([getAttArn('OverflowQueue'), getAttArn('DeadLetterQueue')]);
  });

  it('grants nothing on Resource "*" and nothing beyond logging, the secret and the queues', () => {
    // Prepare
    const statements = roleStatements();
    const allowed = new Set([
      'logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource', 'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes',
    ]);
    const ownLogGroups = 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/tim-attr-gateway-dev';

    // Act
    const actions = statements.flatMap((s) => s.Action);
    const resourcesGranted = statements.flatMap((s) => s.Resource);
    const logResources = statements.filter((s) => s.Action.every((a) => a.startsWith('logs:'))).flatMap((s) => s.Resource);
    const receiveStatements = statements.filter((s) => s.Action.includes('sqs:ReceiveMessage'));

    // Assess
    expect(actions.filter((a) => !allowed.has(a))).toEqual([]);
    expect(resourcesGranted).not.toContain('*');
    expect(actions.some((a) => a.includes('*'))).toBe(false);
    expect(logResources.length).toBeGreaterThan(0);
    for (const r of logResources) expect(z.object({ 'Fn::Sub': z.string() }).parse(r)['Fn::Sub'].startsWith(ownLogGroups)).toBe(true);
    expect(receiveStatements.flatMap((s) => s.Resource)).toEqual([getAttArn('OverflowQueue')]);
    expect(roleSchema.parse(resource('IamRoleLambdaExecution').Properties).ManagedPolicyArns).toBeUndefined();
  });
});

describe('serverless print (stage local, as npm start runs it)', () => {
  it('leaves SECRET_ID, IM_REGION and the queue URLs to the local environment', () => {
    // Prepare
    const deployedOnly = ['SECRET_ID', 'IM_REGION', 'OVERFLOW_QUEUE_URL', 'DLQ_URL'];

    // Act
    const present = deployedOnly.filter((name) => name in localEnvironment);

    // Assess
    expect(present).toEqual([]);
    expect(localEnvironment['IM_RATE_LIMIT']).toBe('100');
  });
});
