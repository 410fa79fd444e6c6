/**
 * A local AWS stand-in in a process of its own, for the multi-process benchmarks (local-stack.ts, `ownProcesses`): `sqs` runs fauxqs, `dynamodb`
 * runs dynalite with the gateway's two tables (TABLE_NAME, BUDGET_TABLE_NAME). On AWS these services do not
 * share a CPU with the IM endpoint; here a separate process keeps their large synchronous work (1 MB lane
 * messages) from delaying the emulator's clock and answers. Reports `{ endpoint }` to the parent once up, and
 * `{ requests }` (DynamoDB requests by operation) on any message from it.
 */
import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFauxqs } from 'fauxqs';
import { startLocalTables } from './local-tables.ts';

const kind = process.argv[2];
/** DynamoDB requests by operation, or SQS requests by action, sent to the parent when it asks (`stats`). */
const requests = new Map<string, number>();
let close: () => Promise<void>;
let endpoint: string;
if (kind === 'sqs') {
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  // A counting pass-through in front of fauxqs: SQS's JSON protocol names the action in X-Amz-Target.
  const proxy = createServer((incoming, outgoing) => {
    const target = String(incoming.headers['x-amz-target'] ?? 'other');
    requests.set(target, (requests.get(target) ?? 0) + 1);
    const upstream = forward(
      { host: '127.0.0.1', port: fauxqs.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  close = async () => {
    proxy.close();
    await fauxqs.stop();
  };
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
