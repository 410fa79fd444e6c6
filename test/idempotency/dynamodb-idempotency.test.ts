import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIdempotency } from '../../lib/idempotency/dynamodb-idempotency.ts';
import { IdempotencyUnavailableError, RequestInProgressError, RequestKeyReusedError } from '../../lib/core/errors.ts';
import type { StoredAnswer } from '../../lib/core/ports.ts';
import { startLocalTables, type LocalTables } from '../../local/local-tables.ts';

const REGION = 'ap-southeast-1';
const TABLE = 'idempotency-test';
const TTL_SECONDS = 3600;
let tables: LocalTables;
let client: DynamoDBClient;

beforeAll(async () => {
  tables = await startLocalTables({ tableName: TABLE, budgetTableName: 'idempotency-test-budget', region: REGION });
  client = new DynamoDBClient({
    region: REGION,
    endpoint: tables.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await tables.close();
});

const ANSWER: StoredAnswer = { statusCode: 202, headers: { 'content-type': 'application/json' }, body: '{"queued":3}' };

/** A store on the local table with its own clock, and a fresh key per test. */
function setup(start = 1_800_000_000_000) {
  let now = start;
  const store = new DynamoDbIdempotency({ client, tableName: TABLE, ttlSeconds: TTL_SECONDS, now: () => now });
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  let runs = 0;
  const work =
    (answer: StoredAnswer = ANSWER, store = true) =>
    async () => {
      runs += 1;
      return { answer, store };
    };
  return { store, key: { id, bodyHash: 'body-a' }, work, runs: () => runs, advance: (ms: number) => void (now += ms) };
}

describe('DynamoDbIdempotency', () => {
  it('runs the work once and answers a re-delivery from the store', async () => {
    // Prepare
    const { store, key, work, runs } = setup();

    // Act
    const first = await store.once(key, 30_000, work());
    const again = await store.once(key, 30_000, work({ statusCode: 500, body: 'not this' }));
    const completed = await store.completed(key);

    // Assess
    expect(first).toEqual(ANSWER);
    expect(again).toEqual(ANSWER);
    expect(completed).toEqual(ANSWER);
    expect(runs()).toBe(1);
  });

  it('refuses the same key with another body, stored or in progress, and answers nothing for it', async () => {
    // Prepare
    const { store, key, work } = setup();
    await store.once(key, 30_000, work());
    const other = { ...key, bodyHash: 'body-b' };

    // Act
    const reused = store.once(other, 30_000, work());

    // Assess
    await expect(reused).rejects.toBeInstanceOf(RequestKeyReusedError);
    expect(await store.completed(other)).toBeUndefined();
  });

  it('answers 409 while a delivery is in progress, and lets a re-send run once that invocation is over', async () => {
    // Prepare: the first delivery's work is still running
    const { store, key, work, runs, advance } = setup();
    let release: () => void = () => undefined;
    const running = store.once(key, 1000, async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return { answer: ANSWER, store: false };
    });
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Act
    const during = store.once(key, 1000, work());
    await expect(during).rejects.toBeInstanceOf(RequestInProgressError);
    advance(1001);
    const afterCrash = await store.once(key, 1000, work());
    release();
    await running;

    // Assess: the abandoned in-progress record no longer blocks
    expect(afterCrash).toEqual(ANSWER);
    expect(runs()).toBe(1);
  });

  it('keeps nothing for an answer not to be stored, so a re-send runs again', async () => {
    // Prepare
    const { store, key, work, runs } = setup();
    const failed: StoredAnswer = { statusCode: 503, body: '{"error":"lanes"}' };

    // Act
    const first = await store.once(key, 30_000, work(failed, false));
    const second = await store.once(key, 30_000, work());

    // Assess
    expect(first).toEqual(failed);
    expect(second).toEqual(ANSWER);
    expect(runs()).toBe(2);
  });

  it('keeps the key bound to its body after a 5xx: the same body runs again, another body is refused as after a 2xx', async () => {
    // Prepare: the first delivery failed with a 5xx (some of its users may be in their lanes)
    const { store, key, work, runs } = setup();
    await store.once(key, 30_000, work({ statusCode: 503, body: '{"error":"lanes"}' }, false));

    // Act
    const other = store.once({ ...key, bodyHash: 'body-b' }, 30_000, work());
    await expect(other).rejects.toBeInstanceOf(RequestKeyReusedError);
    const same = await store.once(key, 30_000, work());

    // Assess
    expect(same).toEqual(ANSWER);
    expect(runs()).toBe(2);
  });

  it('frees the key after a 4xx (nothing was accepted): a corrected body may use it', async () => {
    // Prepare
    const { store, key, work, runs } = setup();
    await store.once(key, 30_000, work({ statusCode: 422, body: '{"rejected":1}' }, false));

    // Act
    const corrected = await store.once({ ...key, bodyHash: 'body-b' }, 30_000, work());

    // Assess
    expect(corrected).toEqual(ANSWER);
    expect(runs()).toBe(2);
  });

  it('runs a key again once its record has expired', async () => {
    // Prepare
    const { store, key, work, runs, advance } = setup();
    await store.once(key, 30_000, work());

    // Act
    advance((TTL_SECONDS + 1) * 1000);
    const completed = await store.completed(key);
    await store.once(key, 30_000, work());

    // Assess
    expect(completed).toBeUndefined();
    expect(runs()).toBe(2);
  });

  it('writes the record layout the Powertools idempotency utility wrote (records outlive a deploy)', async () => {
    // Prepare: the key and validation hashes Powertools computed for this key (eventKeyJmesPath `id`,
    // payloadValidationJmesPath `bodyHash`, key prefix `webhook`, MD5)
    const { store, work } = setup(Date.now());
    const key = { id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', bodyHash: 'a3f1c2' };

    // Act
    await store.once(key, 30_000, work());
    const { Item: item } = await client.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { id: { S: 'webhook#Ip0x6dy8a0TI0cnbK+KpTw==' } },
        ConsistentRead: true,
      }),
    );

    // Assess
    expect(item?.['status']).toEqual({ S: 'COMPLETED' });
    expect(item?.['validation']).toEqual({ S: '3CfnvWCUulC4zz8Au81BAQ==' });
    expect(Number(item?.['expiration']?.N)).toBeGreaterThan(Date.now() / 1000 + TTL_SECONDS - 60);
    expect(item?.['data']?.M?.['statusCode']).toEqual({ N: '202' });
  });

  it('says the store is unavailable when the table cannot be reached, without running the work', async () => {
    // Prepare
    const { key, work, runs } = setup();
    const store = new DynamoDbIdempotency({ client, tableName: 'no-such-table', ttlSeconds: TTL_SECONDS });

    // Act
    const attempt = store.once(key, 30_000, work());

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(IdempotencyUnavailableError);
    await expect(store.completed(key)).rejects.toBeInstanceOf(IdempotencyUnavailableError);
    expect(runs()).toBe(0);
  });
});
