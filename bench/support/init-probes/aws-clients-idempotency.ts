/** Init probe of bench/cold-start.bench.ts: aws-clients.ts plus the idempotency store, as services.ts builds it. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbIdempotency } from '../../../lib/idempotency/dynamodb-idempotency.ts';
import { clients } from './aws-clients.ts';

const idempotency = new DynamoDbIdempotency({ client: new DynamoDBClient({ region: 'ap-southeast-1', maxAttempts: 2 }), tableName: 'probe', ttlSeconds: 172_800 });
export const withIdempotency: readonly object[] = [...clients, idempotency];
