/**
 * One measured Lambda copy for bench/memory.bench.ts, in its own process so the scenarios' peaks do not add
 * up: imports a function bundle (its `handler` is built at import from `process.env`, as deployed), reads
 * the event the parent wrote as the runtime would (one JSON document), invokes the handler once and writes
 * its RSS figures to the file named by `MEMORY_RESULT_FILE`.
 *
 * The bench runs this file compiled to plain JavaScript: Node's TypeScript stripping alone adds ~17 MB of
 * RSS, which a deployed function does not carry.
 *
 * Usage: node memory-child.mjs <api|worker> <event.json> <bundle.mjs>
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import { createLambdaContext } from '../../local/lambda-context.ts';

/** What the child reports; RSS figures in bytes. */
export interface MemoryChildResult {
  readonly role: 'api' | 'worker';
  /** The bundle's file name. */
  readonly bundle: string;
  /** RSS once the handler is built, before the event is read. */
  readonly baselineRss: number;
  /** Peak RSS of the whole process (`resourceUsage().maxRSS`). */
  readonly peakRss: number;
  readonly eventBytes: number;
  readonly invokeMs: number;
  /** The handler's answer, condensed: an HTTP status and its counts, or the batch's failed record count. */
  readonly outcome: string;
}

type Handler<E, R> = (event: E, context: Context) => Promise<R>;
type ApiHandler = Handler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
type WorkerHandler = Handler<SQSEvent, SQSBatchResponse>;

const KIB = 1024;

/** The bundle's exported `handler`. */
async function bundledHandler(path: string): Promise<unknown> {
  const loaded: unknown = await import(pathToFileURL(path).href);
  const handler: unknown =
    typeof loaded === 'object' && loaded !== null && 'handler' in loaded ? loaded.handler : undefined;
  if (typeof handler !== 'function') throw new Error(`${path} exports no handler`);
  return handler;
}

const [role, eventFile, bundle] = process.argv.slice(2);
const resultFile = process.env['MEMORY_RESULT_FILE'];
if (
  (role !== 'api' && role !== 'worker') ||
  eventFile === undefined ||
  bundle === undefined ||
  resultFile === undefined
) {
  throw new Error('usage: MEMORY_RESULT_FILE=<file> node memory-child.mjs <api|worker> <event.json> <bundle.mjs>');
}

const loaded = await bundledHandler(bundle);
const context = createLambdaContext({
  functionName: `tim-attr-gateway-bench-${role}`,
  timeoutMs: role === 'api' ? 29_000 : DEFAULTS.workerTimeoutSeconds * 1000,
});
const baselineRss = process.memoryUsage().rss;

// The runtime receives the invocation as one JSON document and parses it before calling the handler.
const raw = await readFile(eventFile, 'utf8');
const eventBytes = Buffer.byteLength(raw);
const started = performance.now();
let outcome: string;
if (role === 'api') {
  const result = await (loaded as ApiHandler)(JSON.parse(raw) as APIGatewayProxyEventV2, context);
  const body = JSON.parse(result.body ?? '{}') as Record<string, unknown>;
  outcome = `HTTP ${String(result.statusCode)}, Received ${String(body['Received'])} Applied ${String(body['Applied'])} Queued ${String(body['Queued'])} Rejected ${String(body['Rejected'])}`;
} else {
  const event = JSON.parse(raw) as SQSEvent;
  const result = await (loaded as WorkerHandler)(event, context);
  outcome = `${event.Records.length} records, ${result.batchItemFailures.length} failed`;
}
const invokeMs = performance.now() - started;

const report: MemoryChildResult = {
  role,
  bundle: basename(bundle),
  baselineRss,
  peakRss: process.resourceUsage().maxRSS * KIB,
  eventBytes,
  invokeMs,
  outcome,
};
await writeFile(resultFile, JSON.stringify(report));
// SDK sockets would keep the process alive; the figures are written.
process.exit(0);
