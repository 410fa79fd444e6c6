/**
 * One measured Lambda copy for bench/memory.bench.ts, in its own process so the scenarios' peaks do not add
 * up: builds the handler from `process.env` (local credentials, the parent's emulator and queues), reads
 * the event the parent wrote as the runtime would (a JSON document), invokes the handler once and writes
 * its RSS figures to the file named by `MEMORY_RESULT_FILE`.
 *
 * Run by the bench: node bench/support/memory-child.ts <api|worker> <event.json>
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../../lib/config/config.ts';
import { createApiHandler, createWorkerHandler } from '../../lib/service/lambda-handlers.ts';
import { createServices } from '../../lib/service/services.ts';
import { createLambdaContext } from '../../scripts/local/lambda-context.ts';

/** What the child reports; RSS figures in bytes. */
export interface MemoryChildResult {
  readonly role: 'api' | 'worker';
  /** RSS once the handler is built, before the event is read. */
  readonly baselineRss: number;
  /** Peak RSS of the whole process (`resourceUsage().maxRSS`). */
  readonly peakRss: number;
  readonly eventBytes: number;
  readonly invokeMs: number;
  /** The handler's answer, condensed: an HTTP status and its counts, or the batch's failed record count. */
  readonly outcome: string;
}

const KIB = 1024;
const [role, eventFile] = process.argv.slice(2);
const resultFile = process.env['MEMORY_RESULT_FILE'];
if ((role !== 'api' && role !== 'worker') || eventFile === undefined || resultFile === undefined) {
  throw new Error('usage: MEMORY_RESULT_FILE=<file> node memory-child.ts <api|worker> <event.json>');
}

const services = createServices(loadConfig({ ...process.env, FUNCTION_ROLE: role }));
const context = () => createLambdaContext({ functionName: `tim-attr-gateway-bench-${role}`, timeoutMs: role === 'api' ? 29_000 : 60_000 });
const baselineRss = process.memoryUsage().rss;

// The runtime receives the invocation as one JSON document and parses it before calling the handler.
const raw = await readFile(eventFile, 'utf8');
const eventBytes = Buffer.byteLength(raw);
const started = performance.now();
let outcome: string;
if (role === 'api') {
  const result = await createApiHandler(services)(JSON.parse(raw) as APIGatewayProxyEventV2, context());
  const body = JSON.parse(result.body ?? '{}') as Record<string, unknown>;
  if (process.env["MEMORY_DEBUG"] !== undefined) process.stderr.write(result.body ?? "");
  outcome = `HTTP ${String(result.statusCode)} Received ${String(body['Received'])} Applied ${String(body['Applied'])} Queued ${String(body['Queued'])} Rejected ${String(body['Rejected'])}`;
} else {
  const event = JSON.parse(raw) as SQSEvent;
  const result = await createWorkerHandler(services)(event, context());
  outcome = `${event.Records.length} records, ${result.batchItemFailures.length} failed`;
}
const invokeMs = performance.now() - started;

const report: MemoryChildResult = { role, baselineRss, peakRss: process.resourceUsage().maxRSS * KIB, eventBytes, invokeMs, outcome };
await writeFile(resultFile, JSON.stringify(report));
// SDK sockets would keep the process alive; the figures are written.
process.exit(0);
