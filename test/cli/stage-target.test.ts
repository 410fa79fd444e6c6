/** `--stage`: the deployed stack's outputs, its secret and CloudWatch, at the SDK boundary (no AWS account here). */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../cli/config/gateway-target.ts';
import { oldestMessageAge } from '../../cli/status/oldest-age.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';
import { runTimAttr } from './cli-harness.ts';

const cloudformation = mockClient(CloudFormationClient);
const secrets = mockClient(SecretsManagerClient);
const cloudwatch = mockClient(CloudWatchClient);
afterEach(() => {
  cloudformation.reset();
  secrets.reset();
  cloudwatch.reset();
});

const output = (OutputKey: string, OutputValue: string) => ({ OutputKey, OutputValue });

describe('tim-attr --stage', () => {
  it("reads the stack's outputs: queues, every table, the IM region, the secret, the webhook", async () => {
    // Prepare
    cloudformation.on(DescribeStacksCommand, { StackName: 'tim-attr-gateway-prod' }).resolves({
      Stacks: [
        {
          StackName: 'tim-attr-gateway-prod',
          CreationTime: new Date(),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [
            output('IntakeQueueUrl', 'https://sqs.ap-southeast-1.amazonaws.com/123/tim-attr-gateway-prod-intake.fifo'),
            output('LanesQueueUrl', 'https://sqs.ap-southeast-1.amazonaws.com/123/tim-attr-gateway-prod-lanes.fifo'),
            output('DeadLetterQueueUrl', 'https://sqs.ap-southeast-1.amazonaws.com/123/tim-attr-gateway-prod-dlq'),
            output('IdempotencyTableName', 'tim-attr-gateway-prod-idempotency'),
            output('BudgetTableName', 'tim-attr-gateway-prod-budget'),
            output('SecretName', 'tim-attr-gateway/prod'),
            output('ImRegion', 'frankfurt'),
            output('HttpApiUrl', 'https://abc.execute-api.ap-southeast-1.amazonaws.com'),
          ],
        },
      ],
    });
    secrets
      .on(GetSecretValueCommand, { SecretId: 'tim-attr-gateway/prod' })
      .resolves({ SecretString: JSON.stringify(TEST_CREDENTIALS) });

    // Act
    const target = await resolveTarget({ stage: 'prod', region: 'ap-southeast-1' }, {});

    // Assess
    try {
      expect(await target.queueUrl('intake')).toBe(
        'https://sqs.ap-southeast-1.amazonaws.com/123/tim-attr-gateway-prod-intake.fifo',
      );
      expect(await target.queueUrl('deadLetter')).toBe(
        'https://sqs.ap-southeast-1.amazonaws.com/123/tim-attr-gateway-prod-dlq',
      );
      expect([...(await target.tables())]).toEqual([
        ['idempotency', 'tim-attr-gateway-prod-idempotency'],
        ['budget', 'tim-attr-gateway-prod-budget'],
      ]);
      expect(target.imBaseUrl).toBe('https://adminapiger.im.qcloud.com');
      expect(await target.imCredentials.get()).toMatchObject({
        sdkAppId: TEST_CREDENTIALS.sdkAppId,
        identifier: TEST_CREDENTIALS.identifier,
      });
      expect(await target.webhookUrl()).toBe('https://abc.execute-api.ap-southeast-1.amazonaws.com/v1/user-attrs');
      expect(await target.webhookSecret()).toBe(TEST_CREDENTIALS.webhookSecret);
      expect(target.cloudwatch).toBeDefined();
    } finally {
      target.close();
    }
  });

  it('a stage without a stack is a usage error naming the stack and --region', async () => {
    // Prepare
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id tim-attr-gateway-nope does not exist'), { name: 'ValidationError' }),
      );

    // Act
    const run = await runTimAttr(undefined, ['status', '--stage', 'nope', '--region', 'eu-central-1']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--stage nope: no CloudFormation stack named tim-attr-gateway-nope in this region');
  });

  it("takes the oldest message's age from CloudWatch: the latest one-minute maximum", async () => {
    // Prepare
    const now = new Date('2026-01-01T12:00:00Z');
    cloudwatch
      .on(GetMetricStatisticsCommand, {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: 'q.fifo' }],
      })
      .resolves({
        Datapoints: [
          { Timestamp: new Date('2026-01-01T11:57:00Z'), Maximum: 900 },
          { Timestamp: new Date('2026-01-01T11:59:00Z'), Maximum: 42 },
          { Timestamp: new Date('2026-01-01T11:58:00Z'), Maximum: 300 },
        ],
      });

    // Act
    const age = await oldestMessageAge(
      new CloudWatchClient({ region: 'ap-southeast-1' }),
      'https://sqs.ap-southeast-1.amazonaws.com/123/q.fifo',
      now,
    );

    // Assess
    expect(age).toBe(42);
  });
});
