/**
 * Init probe of bench/cold-start.bench.ts: the AWS SDK clients both functions build, without DynamoDB. Its
 * init time, less that of aws-clients-idempotency.ts, is what DynamoDB and Powertools idempotency add.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';

const region = 'ap-southeast-1';
export const clients: readonly object[] = [new SecretsManagerClient({ region }), new SQSClient({ region })];
