import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { serviceDefaults } from './service-defaults.ts';

export interface LocalQueuesOptions {
  readonly client: SQSClient;
  readonly overflowQueueName: string;
  readonly deadLetterQueueName: string;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before the queue moves a message to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly overflowRetentionSeconds?: number;
  readonly deadLetterRetentionSeconds?: number;
}

export interface LocalQueues {
  readonly overflowQueueUrl: string;
  readonly overflowQueueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

export const localQueuesDefaults = {
  overflowRetentionSeconds: serviceDefaults.overflowRetentionSeconds,
  deadLetterRetentionSeconds: serviceDefaults.dlqRetentionSeconds,
} as const;

async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const answer = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = answer.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`GetQueueAttributes returned no QueueArn for ${queueUrl}`);
  return arn;
}

async function createQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  const answer = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (answer.QueueUrl === undefined) throw new Error(`CreateQueue returned no QueueUrl for ${name}`);
  return answer.QueueUrl;
}

/**
 * Creates the overflow queue and its dead-letter queue through the SQS API, with the same redrive policy
 * and timeouts as the CloudFormation resources, so a local SQS endpoint behaves like the deployed pair.
 */
export async function createLocalQueues(options: LocalQueuesOptions): Promise<LocalQueues> {
  const { client } = options;
  const deadLetterQueueUrl = await createQueue(client, options.deadLetterQueueName, {
    MessageRetentionPeriod: String(options.deadLetterRetentionSeconds ?? localQueuesDefaults.deadLetterRetentionSeconds),
  });
  const deadLetterQueueArn = await queueArn(client, deadLetterQueueUrl);
  const overflowQueueUrl = await createQueue(client, options.overflowQueueName, {
    VisibilityTimeout: String(options.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(options.overflowRetentionSeconds ?? localQueuesDefaults.overflowRetentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueueArn, maxReceiveCount: options.maxReceiveCount }),
  });
  const overflowQueueArn = await queueArn(client, overflowQueueUrl);
  return { overflowQueueUrl, overflowQueueArn, deadLetterQueueUrl, deadLetterQueueArn };
}
