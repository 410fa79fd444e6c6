import { DeleteTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSlotLedger, gridId } from '../../lib/pacing/dynamodb-slot-ledger.ts';
import type { LeaseRequest } from '../../lib/pacing/slot-ledger.ts';
import { startLocalTables, type LocalTables } from '../../local/local-tables.ts';

const REGION = 'ap-southeast-1';
const COMMAND = 'all_member_push/im_set_attr';
let tables: LocalTables;
let client: DynamoDBClient;

beforeAll(async () => {
  tables = await startLocalTables({
    tableName: 'ledger-test-idempotency',
    budgetTableName: 'ledger-test-budget',
    region: REGION,
  });
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

/** A ledger on the local budget table, for its own command so tests do not share a grid. */
function ledgerFor(): { ledger: DynamoDbSlotLedger; request: (over: Partial<LeaseRequest>) => LeaseRequest } {
  const command = `${COMMAND}#${Math.random().toString(36).slice(2)}`;
  const ledger = new DynamoDbSlotLedger({ client, tableName: 'ledger-test-budget' });
  return {
    ledger,
    request: (over) => ({ command, count: 5, nowMs: 1_000_000, spacingMs: 10, horizonMs: 1000, ...over }),
  };
}

describe('DynamoDbSlotLedger', () => {
  it('starts an idle grid at now and books later leases right after the last one', async () => {
    // Prepare
    const { ledger, request } = ledgerFor();

    // Act
    const first = await ledger.lease(request({}));
    const second = await ledger.lease(request({ nowMs: 1_000_010 }));
    const afterIdle = await ledger.lease(request({ nowMs: 2_000_000 }));

    // Assess
    expect(first).toEqual({ kind: 'leased', firstSlotMs: 1_000_000, penalty: undefined });
    expect(second).toEqual({ kind: 'leased', firstSlotMs: 1_000_050, penalty: undefined });
    expect(afterIdle).toEqual({ kind: 'leased', firstSlotMs: 2_000_000, penalty: undefined });
  });

  it('refuses a lease that would book past the horizon', async () => {
    // Prepare: 100 slots of 10 ms book the next second
    const { ledger, request } = ledgerFor();
    await ledger.lease(request({ count: 100 }));

    // Act
    const over = await ledger.lease(request({ count: 1 }));
    const later = await ledger.lease(request({ count: 1, nowMs: 1_000_020 }));

    // Assess
    expect(over).toEqual({ kind: 'full' });
    expect(later).toEqual({ kind: 'leased', firstSlotMs: 1_001_000, penalty: undefined });
  });

  it('hands concurrent leases from many copies distinct, evenly spaced slots', async () => {
    // Prepare: 20 copies, each with its own ledger object, lease at once
    const { request } = ledgerFor();
    const copies = Array.from(
      { length: 20 },
      () => new DynamoDbSlotLedger({ client, tableName: 'ledger-test-budget' }),
    );

    // Act
    const results = await Promise.all(copies.map((ledger) => ledger.lease(request({ count: 4 }))));

    // Assess: 80 slots, no two alike, 10 ms apart from now on
    const slots = results.flatMap((r) => (r.kind === 'leased' ? [0, 1, 2, 3].map((i) => r.firstSlotMs + i * 10) : []));
    expect(slots).toHaveLength(80);
    expect([...slots].sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, i) => 1_000_000 + i * 10));
  });

  it('stores a lowered rate once per cooldown and returns it with later leases', async () => {
    // Prepare
    const { ledger, request } = ledgerFor();
    const { command } = request({});

    // Act
    await ledger.lowerRate(command, 80, 1_000_000, 1000);
    await ledger.lowerRate(command, 64, 1_000_500, 1000);
    const lease = await ledger.lease(request({ nowMs: 1_000_600 }));
    await ledger.lowerRate(command, 64, 1_001_500, 1000);
    const item = await client.send(
      new GetItemCommand({ TableName: 'ledger-test-budget', Key: { id: { S: gridId(command) } } }),
    );

    // Assess
    expect(lease).toMatchObject({ kind: 'leased', penalty: { rate: 80, atMs: 1_000_000 } });
    expect(item.Item?.['penaltyRate']?.N).toBe('64');
  });

  it('throws when the table is gone, so the pacer falls back to its floor', async () => {
    // Prepare
    const gone = await startLocalTables({
      tableName: 'ledger-gone-idempotency',
      budgetTableName: 'ledger-gone-budget',
      region: REGION,
    });
    const goneClient = new DynamoDBClient({
      region: REGION,
      endpoint: gone.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const ledger = new DynamoDbSlotLedger({ client: goneClient, tableName: 'ledger-gone-budget' });
    await goneClient.send(new DeleteTableCommand({ TableName: 'ledger-gone-budget' }));

    // Act
    const lease = ledger.lease({ command: COMMAND, count: 1, nowMs: 1, spacingMs: 10, horizonMs: 1000 });

    // Assess
    await expect(lease).rejects.toThrow(/resource not found|ResourceNotFound|non-existent/i);
    goneClient.destroy();
    await gone.close();
  });
});
