import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import DEFAULTS from '../lib/config/defaults.json' with { type: 'json' };

/** The largest message SQS takes (and serverless.yml's MaximumMessageSize): 1 MiB. */
const MAXIMUM_MESSAGE_SIZE = 1_048_576;

export interface LocalQueuesOptions {
  readonly client: SQSClient;
  /** Name of the FIFO lanes queue; must end with `.fifo`. */
  readonly lanesQueueName: string;
  /** Name of the FIFO intake queue; must end with `.fifo`. */
  readonly intakeQueueName: string;
  readonly deadLetterQueueName: string;
  readonly lanesVisibilityTimeoutSeconds?: number;
  readonly intakeVisibilityTimeoutSeconds?: number;
  /** Retention of the lanes and intake queues. */
  readonly retentionSeconds?: number;
  readonly deadLetterRetentionSeconds?: number;
}

export interface LocalQueues {
  readonly lanesQueueUrl: string;
  readonly lanesQueueArn: string;
  readonly intakeQueueUrl: string;
  readonly intakeQueueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

/** The figures of serverless.yml's queue resources, from the one defaults file. */
export const localQueuesDefaults = {
  lanesVisibilityTimeoutSeconds: DEFAULTS.lanesVisibilityTimeoutSeconds,
  intakeVisibilityTimeoutSeconds: DEFAULTS.intakeVisibilityTimeoutSeconds,
  retentionSeconds: DEFAULTS.queueRetentionSeconds,
  deadLetterRetentionSeconds: DEFAULTS.dlqRetentionSeconds,
} as const;

async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const answer = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = answer.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`GetQueueAttributes returned no QueueArn for ${queueUrl}`);
  return arn;
}

async function createQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  const answer = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (answer.QueueUrl === undefined) throw new Error(`CreateQueue returned no QueueUrl for ${name}`);
  return { url: answer.QueueUrl, arn: await queueArn(client, answer.QueueUrl) };
}

/** SQS's rule for a FIFO queue's name, checked here so a wrong name fails with a clear message. */
function fifoName(option: string, name: string): string {
  if (!name.endsWith('.fifo')) throw new Error(`${option} must end with .fifo (got "${name}")`);
  return name;
}

/**
 * Creates the queues of serverless.yml through the SQS API: the FIFO lanes and intake queues (no content-based
 * deduplication, no redrive: the worker dead-letters itself) and the standard dead-letter queue, with the same
 * visibility timeouts, retention and maximum size, so a local SQS endpoint behaves like the deployed stack.
 */
export async function createLocalQueues(options: LocalQueuesOptions): Promise<LocalQueues> {
  const d = localQueuesDefaults;
  const { client } = options;
  const retention = String(options.retentionSeconds ?? d.retentionSeconds);
  const fifo = (visibilityTimeoutSeconds: number): Record<string, string> => ({
    FifoQueue: 'true',
    ContentBasedDeduplication: 'false',
    VisibilityTimeout: String(visibilityTimeoutSeconds),
    MessageRetentionPeriod: retention,
    MaximumMessageSize: String(MAXIMUM_MESSAGE_SIZE),
  });
  const deadLetter = await createQueue(client, options.deadLetterQueueName, {
    MessageRetentionPeriod: String(options.deadLetterRetentionSeconds ?? d.deadLetterRetentionSeconds),
    MaximumMessageSize: String(MAXIMUM_MESSAGE_SIZE),
  });
  const lanes = await createQueue(client, fifoName('lanesQueueName', options.lanesQueueName), {
    ...fifo(options.lanesVisibilityTimeoutSeconds ?? d.lanesVisibilityTimeoutSeconds),
    // High-throughput FIFO, as deployed.
    DeduplicationScope: 'messageGroup',
    FifoThroughputLimit: 'perMessageGroupId',
  });
  const intake = await createQueue(
    client,
    fifoName('intakeQueueName', options.intakeQueueName),
    fifo(options.intakeVisibilityTimeoutSeconds ?? d.intakeVisibilityTimeoutSeconds),
  );
  return {
    lanesQueueUrl: lanes.url,
    lanesQueueArn: lanes.arn,
    intakeQueueUrl: intake.url,
    intakeQueueArn: intake.arn,
    deadLetterQueueUrl: deadLetter.url,
    deadLetterQueueArn: deadLetter.arn,
  };
}
