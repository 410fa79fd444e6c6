/**
 * Fleet-wide idempotency on DynamoDB, with Powertools' idempotency utility: one record per request key
 * (`webhook-id`), its body hash checked on every re-delivery, kept for the TTL (48 h by default: Standard
 * Webhooks senders retry for more than a day). Only answers the caller may keep are stored; when the work
 * decides not to store its answer, the in-progress record is deleted, so a re-send runs again.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
  IdempotencyUnknownError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import type { Idempotency, IdempotencyKey, StoredAnswer } from '../usecases/ports.ts';
import { IdempotencyUnavailableError, RequestInProgressError, RequestKeyReusedError } from '../usecases/errors.ts';

export interface DynamoDbIdempotencyOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ttlSeconds: number;
}

/** Carries an answer out of the idempotent function without storing it (Powertools stores only returns). */
class NotStored extends Error {
  readonly answer: StoredAnswer;
  constructor(answer: StoredAnswer) {
    super('answer not stored');
    this.answer = answer;
  }
}

type Work = () => Promise<{ answer: StoredAnswer; store: boolean }>;

// Every copy of every function shares the key space: a re-delivery may reach any API copy.
const KEY_PREFIX = 'webhook';

export class DynamoDbIdempotency implements Idempotency {
  readonly #store: DynamoDBPersistenceLayer;
  readonly #config: IdempotencyConfig;
  readonly #run: (key: IdempotencyKey, work: Work) => Promise<StoredAnswer>;

  constructor(options: DynamoDbIdempotencyOptions) {
    this.#store = new DynamoDBPersistenceLayer({ tableName: options.tableName, awsSdkV3Client: options.client });
    this.#config = new IdempotencyConfig({
      eventKeyJmesPath: 'id',
      payloadValidationJmesPath: 'bodyHash',
      expiresAfterSeconds: options.ttlSeconds,
      throwOnNoIdempotencyKey: true,
    });
    this.#store.configure({ config: this.#config, keyPrefix: KEY_PREFIX });
    this.#run = makeIdempotent(
      async (_key: IdempotencyKey, work: Work): Promise<StoredAnswer> => {
        const { answer, store } = await work();
        if (!store) throw new NotStored(answer);
        return answer;
      },
      { persistenceStore: this.#store, config: this.#config, keyPrefix: KEY_PREFIX, dataIndexArgument: 0 },
    );
  }

  async once(key: IdempotencyKey, remainingMs: number, work: Work): Promise<StoredAnswer> {
    // The in-progress record expires with the invocation: a crashed delivery does not block re-sends for the TTL.
    this.#config.registerLambdaContext(remainingTimeContext(remainingMs));
    try {
      return await this.#run(key, work);
    } catch (error) {
      if (error instanceof NotStored) return error.answer;
      if (error instanceof IdempotencyAlreadyInProgressError) throw new RequestInProgressError('a delivery of this request is still in progress', { cause: error });
      if (error instanceof IdempotencyValidationError) throw new RequestKeyReusedError('the key was already used for a different body', { cause: error });
      // Anything else of Powertools' is the store failing: without it a re-send could not be recognised.
      if (error instanceof IdempotencyUnknownError) throw new IdempotencyUnavailableError('the idempotency store is unavailable', { cause: error });
      throw error;
    }
  }

  async completed(key: IdempotencyKey): Promise<StoredAnswer | undefined> {
    try {
      const record = await this.#store.getRecord({ ...key });
      if (record.getStatus() !== IdempotencyRecordStatus.COMPLETED || record.isExpired()) return undefined;
      const stored = record.getResponse();
      return isStoredAnswer(stored) ? stored : undefined;
    } catch (error) {
      if (error instanceof IdempotencyItemNotFoundError || error instanceof IdempotencyValidationError) return undefined;
      throw new IdempotencyUnavailableError('the idempotency store is unavailable', { cause: error });
    }
  }
}

function isStoredAnswer(value: unknown): value is StoredAnswer {
  return typeof value === 'object' && value !== null && 'statusCode' in value && typeof value.statusCode === 'number' && 'body' in value && typeof value.body === 'string';
}

/** Powertools reads only the remaining time of the context it is given. */
function remainingTimeContext(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'api',
    functionVersion: '$LATEST',
    invokedFunctionArn: '',
    memoryLimitInMB: '256',
    awsRequestId: '',
    logGroupName: '',
    logStreamName: '',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
