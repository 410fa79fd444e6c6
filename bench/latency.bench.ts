/**
 * Warm latency of the API function's own work on small webhooks (100 users each): ≥ 2,000 invocations of
 * the real handler in this process against the IM emulator (no latency injected). Each invocation's total
 * time less the time spent inside `im.setAttr` (the IM round trip, timed by wrapping the client's method)
 * is the gateway's own time: parsing, signature check, validation, chunking, response, logs and metrics.
 * Rate-limit pacing is kept out: the copy gets a budget far above what it uses and the emulator no limit.
 * Target: p99 < 5 ms. Prints figures; it is not a test.
 *
 * Run: npx node bench/latency.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { apiEvent, lambdaContext, makeUsers } from '../test/helpers/factories.ts';
import { startStack } from '../test/helpers/stack.ts';
import { percentile } from './support/stats.ts';

const WARM_UP = 200;
const INVOCATIONS = 2_000;
const USERS_PER_WEBHOOK = 100;
const TARGET_P99_MS = 5;

// Logs at WARN and no EMF lines: writing every invocation's log to this terminal would be what is measured.
process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
const stack = await startStack({ emulatorRateLimit: 0 });
try {
  const { services, api } = stack.copy({ IM_RATE_LIMIT: '10000', API_RATE_SHARE: '9000', API_MAX_CONCURRENCY: '1', LOG_LEVEL: 'WARN' }, 'api');

  let imMs = 0;
  const setAttr = services.im.setAttr.bind(services.im);
  services.im.setAttr = async (...args) => {
    const started = performance.now();
    try {
      return await setAttr(...args);
    } finally {
      imMs += performance.now() - started;
    }
  };

  // Events are signed up front: a producer signs them, not the gateway.
  const events = Array.from({ length: WARM_UP + INVOCATIONS }, (_, i) => apiEvent(JSON.stringify({ UserAttrs: makeUsers(USERS_PER_WEBHOOK, `lat${i}`) })));
  const own: number[] = [];
  const total: number[] = [];
  const im: number[] = [];
  for (const [i, event] of events.entries()) {
    imMs = 0;
    const started = performance.now();
    const result = await api(event, lambdaContext());
    const elapsed = performance.now() - started;
    if (result.statusCode !== 200) throw new Error(`invocation ${i} answered ${String(result.statusCode)}: ${result.body ?? ''}`);
    if (i < WARM_UP) continue;
    total.push(elapsed);
    im.push(imMs);
    own.push(elapsed - imMs);
  }

  const row = (label: string, samples: readonly number[]) =>
    `${label.padEnd(22)} p50 ${percentile(samples, 0.5).toFixed(2).padStart(6)}  p99 ${percentile(samples, 0.99).toFixed(2).padStart(6)}  max ${percentile(samples, 1).toFixed(2).padStart(7)} ms`;
  const p99 = percentile(own, 0.99);
  console.log(`${INVOCATIONS} warm invocations of ${USERS_PER_WEBHOOK} users each (after ${WARM_UP} warm-up), in-process, emulator without latency or rate limit`);
  console.log('LOG_LEVEL=WARN, POWERTOOLS_METRICS_DISABLED=true: stdout is kept out of the figures');
  console.log(row('total per invocation', total));
  console.log(row('inside im.setAttr', im));
  console.log(`${row('gateway own time', own)}  ${p99 < TARGET_P99_MS ? 'ok' : 'OVER'} (target p99 < ${TARGET_P99_MS} ms)`);
  if (p99 >= TARGET_P99_MS) process.exitCode = 1;
} finally {
  await stack.close();
}
