/**
 * A local AWS stand-in in a process of its own, for the multi-process benchmarks: `sqs` runs fauxqs, `dynamodb`
 * runs dynalite with the gateway's two tables (TABLE_NAME, BUDGET_TABLE_NAME). On AWS these services do not
 * share a CPU with the IM endpoint; here a separate process keeps their large synchronous work (1 MB lane
 * messages) from delaying the emulator's clock and answers. Reports `{ endpoint }` to the parent once up, and
 * `{ requests }` (DynamoDB requests by operation) on any message from it.
 */
import { startFauxqs } from 'fauxqs';
import { startLocalTables } from '../../scripts/local/local-tables.ts';

const kind = process.argv[2];
/** DynamoDB requests by operation, sent to the parent when it asks (`stats`). */
const requests = new Map<string, number>();
let close: () => Promise<void>;
let endpoint: string;
if (kind === 'sqs') {
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  endpoint = `http://127.0.0.1:${fauxqs.port}`;
  close = () => fauxqs.stop();
} else if (kind === 'dynamodb') {
  const tables = await startLocalTables({
    onRequest: (target) => requests.set(target, (requests.get(target) ?? 0) + 1),
    tableName: process.env['TABLE_NAME'] ?? 'bench-idempotency',
    ...(process.env['BUDGET_TABLE_NAME'] === undefined ? {} : { budgetTableName: process.env['BUDGET_TABLE_NAME'] }),
  });
  endpoint = tables.endpoint;
  close = () => tables.close();
} else {
  throw new Error(`service-process: expected "sqs" or "dynamodb", got ${kind ?? 'nothing'}`);
}
process.on('SIGTERM', () => void close().finally(() => process.exit(0)));
process.on('message', () => process.send?.({ requests: Object.fromEntries(requests) }));
process.send?.({ endpoint });
