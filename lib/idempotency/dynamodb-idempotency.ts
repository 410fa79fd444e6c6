/**
 * Fleet-wide idempotency on DynamoDB: one record per request key (`webhook-id`), its body hash checked on
 * every re-delivery, kept for the TTL (48 h by default: Standard Webhooks senders retry for more than a day).
 * Only answers the caller may keep are stored; when the work decides not to store its answer, a re-send runs
 * again. After a 5xx some users may already be in their lanes, so the key stays bound to its body (a FAILED
 * record): the same body runs again, another body is refused (422) as after a 2xx. After a 4xx nothing was
 * accepted, and the record is deleted, so a sender may correct the body under the same key.
 *
 * The protocol is three conditional writes: put an INPROGRESS record unless a live one exists (a record past
 * its expiry, or INPROGRESS past the invocation that wrote it, counts as gone), then mark it COMPLETED with
 * the answer, or delete it. The records keep the layout of Powertools for AWS Lambda's idempotency utility
 * (`id` = `webhook#` + MD5 of the key, `status`, `expiration` in s, `in_progress_expiration` in ms, `data`,
 * `validation`), which this adapter replaced: that utility and its JMESPath engine were a fifth of the API
 * function's cold start beyond a minimal peer's (bench/cold-start.bench.ts), for a protocol this small.
 */
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { Idempotency, IdempotencyKey, StoredAnswer } from '../core/ports.ts';
import { IdempotencyUnavailableError, RequestInProgressError, RequestKeyReusedError } from '../core/errors.ts';

export interface DynamoDbIdempotencyOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly ttlSeconds: number;
  /** Epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

type Work = () => Promise<{ answer: StoredAnswer; store: boolean }>;
type Item = Record<string, AttributeValue>;

// Every copy of every function shares the key space: a re-delivery may reach any API copy.
const KEY_PREFIX = 'webhook';
const STATUS = { inProgress: 'INPROGRESS', completed: 'COMPLETED', failed: 'FAILED' } as const;

/** MD5, base64, of the value's JSON: how the records' key and validation were always hashed. */
const hashOf = (value: string): string => createHash('md5').update(JSON.stringify(value)).digest('base64');
/** The record's key for a request key. */
const itemKey = (key: IdempotencyKey): Item => ({ id: { S: `${KEY_PREFIX}#${hashOf(key.id)}` } });

/**
 * A live record blocks a new delivery: it exists, has not expired, is not an abandoned INPROGRESS one, and is
 * not a FAILED one of this very body.
 */
const FREE_TO_START =
  'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#inProgressExpiry) AND #inProgressExpiry < :nowMs) OR (#status = :failed AND #validation = :validation)';

export class DynamoDbIdempotency implements Idempotency {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #ttlSeconds: number;
  readonly #now: () => number;

  constructor(options: DynamoDbIdempotencyOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#ttlSeconds = options.ttlSeconds;
    this.#now = options.now ?? Date.now;
  }

  async once(key: IdempotencyKey, remainingMs: number, work: Work): Promise<StoredAnswer> {
    const id = itemKey(key);
    const validation = hashOf(key.bodyHash);
    const existing = await this.#start(id, validation, remainingMs);
    if (existing !== undefined) return answerOf(existing, validation);
    const { answer, store } = await work();
    // The work is done either way; without this write a re-send within the in-progress window gets 409.
    await this.#write(
      store
        ? this.#complete(id, answer)
        : answer.statusCode >= 500
          ? this.#fail(id)
          : new DeleteItemCommand({ TableName: this.#table, Key: id }),
    );
    return answer;
  }

  #complete(id: Item, answer: StoredAnswer): UpdateItemCommand {
    return new UpdateItemCommand({
      TableName: this.#table,
      Key: id,
      UpdateExpression: 'SET #status = :completed, #expiry = :expiry, #data = :data',
      ExpressionAttributeNames: { '#status': 'status', '#expiry': 'expiration', '#data': 'data' },
      ExpressionAttributeValues: {
        ':completed': { S: STATUS.completed },
        ':expiry': { N: String(this.#expiry()) },
        ':data': toItemValue(answer),
      },
    });
  }

  /** Keeps the key bound to its body (validation) with no answer: a re-send of that body runs again. */
  #fail(id: Item): UpdateItemCommand {
    return new UpdateItemCommand({
      TableName: this.#table,
      Key: id,
      UpdateExpression: 'SET #status = :failed, #expiry = :expiry REMOVE #inProgressExpiry',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#expiry': 'expiration',
        '#inProgressExpiry': 'in_progress_expiration',
      },
      ExpressionAttributeValues: { ':failed': { S: STATUS.failed }, ':expiry': { N: String(this.#expiry()) } },
    });
  }

  async completed(key: IdempotencyKey): Promise<StoredAnswer | undefined> {
    const item = await this.#read(itemKey(key));
    if (
      item === undefined ||
      item['status']?.S !== STATUS.completed ||
      Number(item['expiration']?.N) < this.#now() / 1000
    )
      return undefined;
    if (item['validation']?.S !== hashOf(key.bodyHash)) return undefined;
    return fromItemValue(item['data']);
  }

  /** Writes the INPROGRESS record; returns the live record in the way instead, if any. */
  async #start(id: Item, validation: string, remainingMs: number, tries = 2): Promise<Item | undefined> {
    const now = this.#now();
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...id,
            status: { S: STATUS.inProgress },
            expiration: { N: String(this.#expiry()) },
            // The in-progress record expires with the invocation: a crashed delivery does not block re-sends for the TTL.
            in_progress_expiration: { N: String(Math.round(now + remainingMs)) },
            validation: { S: validation },
          },
          ConditionExpression: FREE_TO_START,
          ExpressionAttributeNames: {
            '#id': 'id',
            '#expiry': 'expiration',
            '#status': 'status',
            '#inProgressExpiry': 'in_progress_expiration',
            '#validation': 'validation',
          },
          ExpressionAttributeValues: {
            ':now': { N: String(now / 1000) },
            ':nowMs': { N: String(now) },
            ':inprogress': { S: STATUS.inProgress },
            ':failed': { S: STATUS.failed },
            ':validation': { S: validation },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw unavailable(error);
      // The record in the way comes with the refusal on AWS; some emulators leave it out.
      const existing = error.Item ?? (await this.#read(id));
      if (existing !== undefined) return existing;
      // Gone between the two requests (deleted by a delivery that did not store): try again, once.
      if (tries > 1) return this.#start(id, validation, remainingMs, tries - 1);
      throw unavailable(error);
    }
  }

  async #read(id: Item): Promise<Item | undefined> {
    try {
      return (await this.#client.send(new GetItemCommand({ TableName: this.#table, Key: id, ConsistentRead: true })))
        .Item;
    } catch (error) {
      throw unavailable(error);
    }
  }

  async #write(command: UpdateItemCommand | DeleteItemCommand): Promise<void> {
    try {
      await this.#client.send(command);
    } catch (error) {
      throw unavailable(error);
    }
  }

  #expiry(): number {
    return Math.round(this.#now() / 1000 + this.#ttlSeconds);
  }
}

/** What a live record means for a new delivery. */
function answerOf(item: Item, validation: string): StoredAnswer {
  if (item['validation']?.S !== undefined && item['validation'].S !== validation)
    throw new RequestKeyReusedError('the key was already used for a different body');
  if (item['status']?.S === STATUS.completed) {
    const answer = fromItemValue(item['data']);
    if (answer !== undefined) return answer;
  }
  throw new RequestInProgressError('a delivery of this request is still in progress');
}

function unavailable(error: unknown): IdempotencyUnavailableError {
  return new IdempotencyUnavailableError('the idempotency store is unavailable', { cause: error });
}

/** A stored answer as a DynamoDB map: `statusCode`, `body`, `headers`. */
function toItemValue(answer: StoredAnswer): AttributeValue {
  const headers = Object.fromEntries(
    Object.entries(answer.headers ?? {}).map(([name, value]): [string, AttributeValue] => [name, { S: value }]),
  );
  return {
    M: {
      statusCode: { N: String(answer.statusCode) },
      body: { S: answer.body },
      ...(answer.headers === undefined ? {} : { headers: { M: headers } }),
    },
  };
}

function fromItemValue(value: AttributeValue | undefined): StoredAnswer | undefined {
  const map = value?.M;
  const statusCode = Number(map?.['statusCode']?.N);
  const body = map?.['body']?.S;
  if (map === undefined || !Number.isInteger(statusCode) || body === undefined) return undefined;
  const headerMap = map['headers']?.M;
  if (headerMap === undefined) return { statusCode, body };
  const headers = Object.fromEntries(
    Object.entries(headerMap).flatMap(([name, header]) => (header.S === undefined ? [] : [[name, header.S]])),
  );
  return { statusCode, headers, body };
}
