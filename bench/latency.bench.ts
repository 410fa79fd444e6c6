/**
 * Warm latency of the API function's own work on small webhooks (100 users each): ≥ 2,000 invocations of
 * the real handler in this process against the IM emulator (no latency injected), fauxqs (the lanes) and
 * dynalite (the idempotency table). Each invocation's total time less the time spent inside `im.setAttr`
 * (the early write), `lanes.enqueue` (the lane messages' SendMessageBatch calls) and the idempotency store
 * (its DynamoDB calls: `once` less the work it wraps), each timed by wrapping the service's method, is the
 * gateway's own time: parsing, signature check, validation, lane planning, chunking, response, logs and
 * metrics. The round trips are printed apart: fauxqs and dynalite run in this process, so their times say
 * little about SQS's and DynamoDB's.
 * Rate-limit pacing is kept out: the copy gets a budget far above what it uses and the emulator no limit.
 * Target, as a ratio so it carries across machines: the own time's p99 at most TARGET_RATIO × a baseline
 * measured in the same run on the same bodies, the p50 of the work no gateway can skip (JSON.parse,
 * JSON.stringify and an HMAC-SHA256 of the body). Absolute times are printed for information.
 *
 * Run: npx node bench/latency.bench.ts
 */
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { apiEvent, lambdaContext, makeUsers } from '../test/helpers/factories.ts';
import { startStack } from '../test/helpers/stack.ts';
import { percentile } from './support/stats.ts';

const WARM_UP = 200;
const INVOCATIONS = 2_000;
const USERS_PER_WEBHOOK = 100;
const TARGET_RATIO = 75;

// Logs at WARN and no EMF lines: writing every invocation's log to this terminal would be what is measured.
process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
const stack = await startStack({ emulatorRateLimit: 0 });
try {
  const { services, api } = stack.copy(
    { IM_RATE_LIMIT: '10000', API_RATE_SHARE: '9000', API_MAX_CONCURRENCY: '1', LOG_LEVEL: 'WARN' },
    'api',
  );

  const { lanes, idempotency } = services;
  if (lanes === undefined || idempotency === undefined)
    throw new Error('the stack gives the API copy no lanes queue or idempotency table');
  /** Wraps an async method so the time spent inside it is added to `add`. */
  const timed =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>, add: (ms: number) => void) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await run(...args);
      } finally {
        add(performance.now() - started);
      }
    };
  let imMs = 0;
  let lanesMs = 0;
  let storeMs = 0;
  services.im.setAttr = timed(services.im.setAttr.bind(services.im), (ms) => (imMs += ms));
  lanes.enqueue = timed(lanes.enqueue.bind(lanes), (ms) => (lanesMs += ms));
  // The store's own time is `once` less the work it runs (which holds the lanes and the early write).
  const once = idempotency.once.bind(idempotency);
  idempotency.once = timed(
    (key, remainingMs, work) =>
      once(
        key,
        remainingMs,
        timed(work, (ms) => (storeMs -= ms)),
      ),
    (ms) => (storeMs += ms),
  );
  idempotency.completed = timed(idempotency.completed.bind(idempotency), (ms) => (storeMs += ms));

  // Events are signed up front: a producer signs them, not the gateway.
  const events = Array.from({ length: WARM_UP + INVOCATIONS }, (_, i) =>
    apiEvent(JSON.stringify({ UserAttrs: makeUsers(USERS_PER_WEBHOOK, `lat${i}`) })),
  );
  const own: number[] = [];
  const total: number[] = [];
  const im: number[] = [];
  const laneWrites: number[] = [];
  const store: number[] = [];
  let queuedOnly = 0;
  for (const [i, event] of events.entries()) {
    imMs = 0;
    lanesMs = 0;
    storeMs = 0;
    const started = performance.now();
    const result = await api(event, lambdaContext());
    const elapsed = performance.now() - started;
    // 202: the early write found no start within apiInlineWaitMs (it spends only idle budget) and left the users to
    // their lanes; the gateway's own time is measured the same way.
    if (result.statusCode !== 200 && result.statusCode !== 202)
      throw new Error(`invocation ${i} answered ${String(result.statusCode)}: ${result.body ?? ''}`);
    if (i < WARM_UP) continue;
    if (result.statusCode === 202) queuedOnly++;
    total.push(elapsed);
    im.push(imMs);
    laneWrites.push(lanesMs);
    store.push(storeMs);
    own.push(elapsed - imMs - lanesMs - storeMs);
  }

  const row = (label: string, samples: readonly number[]) =>
    `${label.padEnd(34)} p50 ${percentile(samples, 0.5).toFixed(2).padStart(6)}  p99 ${percentile(samples, 0.99).toFixed(2).padStart(6)}  max ${percentile(samples, 1).toFixed(2).padStart(7)} ms`;
  const p99 = percentile(own, 0.99);
  // The same bodies through the irreducible work, measured here, now, on this machine.
  const baseline = events.slice(WARM_UP).map((event) => {
    const body = event.body ?? '';
    const started = performance.now();
    JSON.stringify(JSON.parse(body));
    createHmac('sha256', 'baseline-key').update(body).digest('base64');
    return performance.now() - started;
  });
  const ratio = p99 / percentile(baseline, 0.5);
  console.log(
    `${INVOCATIONS} warm invocations of ${USERS_PER_WEBHOOK} users each (after ${WARM_UP} warm-up), in-process, emulator without latency or rate limit; fauxqs and dynalite in-process`,
  );
  console.log('LOG_LEVEL=WARN, POWERTOOLS_METRICS_DISABLED=true: stdout is kept out of the figures');
  console.log(
    `early writes: ${INVOCATIONS - queuedOnly} of ${INVOCATIONS} (the others found the budget busy and were answered 202)`,
  );
  console.log(row('total per invocation', total));
  console.log(row('inside im.setAttr', im));
  console.log(row('inside lanes.enqueue', laneWrites));
  console.log(row('idempotency store', store));
  console.log(row('baseline (parse, stringify, HMAC)', baseline));
  console.log(
    `${row('gateway own time', own)}  p99 = ${ratio.toFixed(1)} × the baseline's p50: ${ratio <= TARGET_RATIO ? 'ok' : 'OVER'} (target ≤ ${TARGET_RATIO}×)`,
  );
  if (ratio > TARGET_RATIO) process.exitCode = 1;
} finally {
  await stack.close();
}
