import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

export interface LocalTablesOptions {
  /** Name of the idempotency table. */
  readonly tableName: string;
  /** Name of the budget table (the shared IM slot grid); none when absent. */
  readonly budgetTableName?: string;
  /** Port to listen on; 0 picks a free one. */
  readonly port?: number;
  readonly host?: string;
  readonly region?: string;
  /** Told the operation of every request (`X-Amz-Target`, e.g. `DynamoDB_20120810.UpdateItem`): for benchmarks. */
  readonly onRequest?: (target: string) => void;
}

export interface LocalTables {
  /** The DynamoDB endpoint, for DYNAMODB_ENDPOINT. */
  readonly endpoint: string;
  readonly port: number;
  readonly tableName: string;
  readonly budgetTableName: string | undefined;
  /** Stops the server; its in-memory data is gone. */
  close(): Promise<void>;
}

export const localTablesDefaults = {
  port: 0,
  host: '127.0.0.1',
  region: 'ap-southeast-1',
} as const;

/** Credentials for the local endpoint, which checks none. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * DynamoDB's table name rule (dynalite enforces the same): 3 to 255 characters of `a-z A-Z 0-9 _ . -`.
 * Checked here so a bad name fails before any server starts.
 */
export function checkTableName(name: string): string {
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(name)) {
    throw new Error(`a DynamoDB table name has 3 to 255 characters of a-z, A-Z, 0-9, _, . and - (got "${name}")`);
  }
  return name;
}

/**
 * Creates a table as serverless.yml defines both of the gateway's: partition key `id` (S), on demand. Waits
 * until it is ACTIVE.
 *
 * The idempotency table's TTL (attribute `expiration`) is not set: dynalite 4 has no UpdateTimeToLive (nor does it expire items).
 * Nothing depends on it: Powertools treats an expired record as absent and overwrites it, as it must anyway
 * because DynamoDB deletes expired items up to days late.
 */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: checkTableName(tableName),
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  const until = Date.now() + 10_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > until)
      throw new Error(`table ${tableName} is still ${Table?.TableStatus ?? 'unknown'} after 10 s`);
    await sleep(20);
  }
}

/**
 * A local DynamoDB (dynalite, in memory) with the idempotency table and the budget table: what
 * DYNAMODB_ENDPOINT, IDEMPOTENCY_TABLE and BUDGET_TABLE point a local run at.
 */
export async function startLocalTables(options: LocalTablesOptions): Promise<LocalTables> {
  const d = localTablesDefaults;
  const tableName = checkTableName(options.tableName);
  const host = options.host ?? d.host;
  // No artificial CREATING/DELETING/UPDATING delays: a table is usable at once.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const { onRequest } = options;
  if (onRequest !== undefined)
    server.on('request', (request: IncomingMessage) => onRequest(String(request.headers['x-amz-target'] ?? '')));
  server.listen(options.port ?? d.port, host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]: unknown[]) => {
      throw error instanceof Error ? error : new Error(String(error));
    }),
  ]);
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host}:${port}`;
  const close = async (): Promise<void> => {
    if (!server.listening) return;
    // Keep-alive connections of SDK clients would hold the server open.
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error === undefined || error === null ? resolve() : reject(error))),
    );
  };
  const client = new DynamoDBClient({ endpoint, region: options.region ?? d.region, credentials: LOCAL_CREDENTIALS });
  try {
    await createTable(client, tableName);
    if (options.budgetTableName !== undefined) await createTable(client, checkTableName(options.budgetTableName));
  } catch (error) {
    await close();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port, tableName, budgetTableName: options.budgetTableName, close };
}
