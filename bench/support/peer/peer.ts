/**
 * The cold-start bench's reference: a minimal Lambda handler with what any peer service of this shape loads at
 * init — middy, the Powertools logger, and the AWS SDK clients this service uses (Secrets Manager, SQS,
 * DynamoDB), each constructed. Built with the same esbuild options as our functions,
 * so the ratio of the two init times says what our own code adds, on any machine.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';

const region = process.env['AWS_REGION'] ?? 'ap-southeast-1';
const logger = new Logger({ serviceName: 'peer' });
const secrets = new SecretsManagerClient({ region });
const sqs = new SQSClient({ region });
const dynamodb = new DynamoDBClient({ region });

export const handler = middy(async (event: { readonly body?: string }) => {
  logger.info('peer', { clients: [secrets, sqs, dynamodb].length, bytes: event.body?.length ?? 0 });
  return { statusCode: 200, body: '{}' };
});
