/**
 * `npm run bench:burst`: what a user sees of a burst. 100,000 users in 5 concurrent signed webhooks of 20,000
 * through the test stack (real API handler copies, worker copies with one lanes poller each, fauxqs, dynalite,
 * the IM emulator at its real 100 calls/s), timed from the first request to the last user in IM.
 * Prints users/s, the per-second timeline of im_set_attr calls, the rate-limited share, IM calls per user,
 * when the webhooks were answered and when the first IM call started. Exits non-zero only on the count and
 * ratio targets (≥ 9,300 users/s, ≤ 0.5 % rate-limited, every user applied), never on an absolute time.
 * Options (defaults from lib/config/defaults.json): --workers 2  --api-share 2  --webhooks 5  --users 20000  --runs 1  --env K=V,K=V
 */
import { parseArgs } from 'node:util';
import DEFAULTS from '../lib/config/defaults.json' with { type: 'json' };
import { apiEvent, lambdaContext, makeUsers } from '../test/helpers/factories.ts';
import { startStack } from '../test/helpers/stack.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: String(DEFAULTS.workerMaxConcurrency) },
    'api-share': { type: 'string', default: String(DEFAULTS.apiRateShare) },
    webhooks: { type: 'string', default: '5' },
    users: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '1' },
    env: { type: 'string', default: '' },
  },
});
const WORKERS = Number(values.workers);
const API_SHARE = values['api-share'];
const WEBHOOKS = Number(values.webhooks);
const USERS_EACH = Number(values.users);
const RUNS = Number(values.runs);
const EXTRA_ENV = Object.fromEntries(values.env.split(',').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const TOTAL = WEBHOOKS * USERS_EACH;
const TARGET = { usersPerSecond: 9_300, rateLimitedShare: 0.005 } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BurstResult {
  readonly seconds: number;
  readonly usersPerSecond: number;
  readonly timeline: readonly number[];
  readonly calls: number;
  readonly rateLimited: number;
  readonly applied: number;
  readonly answeredMs: readonly number[];
  readonly firstCallMs: number;
  readonly maxInWindow: number;
}

// Read by Powertools from the process env, not from the stack's.
process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
const stack = await startStack({
  env: {
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // The fleet budget of serverless.yml: the API's share over as many copies as there are webhooks in flight.
    API_RATE_SHARE: API_SHARE,
    API_MAX_CONCURRENCY: String(WEBHOOKS),
    WORKER_MAX_CONCURRENCY: String(WORKERS),
    ...EXTRA_ENV,
  },
});

// One poller each: a Lambda copy runs one invocation at a time.
const workers = Array.from({ length: WORKERS }, () => stack.startWorkers({ concurrency: 1 }));

async function runBurst(run: number): Promise<BurstResult> {
  await stack.reset();
  // Run-unique accounts: users of this run are what the store gained.
  const before = stack.emulator.attrs.size;
  const applied = () => stack.emulator.attrs.size - before;
  const counters = stack.emulator.counters;
  counters.callsByCommand.clear();
  counters.rejectedByCode.clear();
  counters.maxCallsInAnyWindow = 0;
  // Fresh API copies each run; the worker copies stay (stopping a poller mid-receive would hide messages).
  const apis = Array.from({ length: WEBHOOKS }, () => stack.copy({}, 'api').api);
  const bodies = Array.from({ length: WEBHOOKS }, (_, i) => JSON.stringify({ UserAttrs: makeUsers(USERS_EACH, `burst-${run}-${i}`) }));
  const events = bodies.map((body) => apiEvent(body));
  await sleep(300);

  const setCalls = () => counters.callsByCommand.get('im_set_attr') ?? 0;
  const t0 = performance.now();
  let firstCallMs = Number.NaN;
  const watchFirst = setInterval(() => {
    if (Number.isNaN(firstCallMs) && setCalls() > 0) firstCallMs = performance.now() - t0;
  }, 2);
  const cumulative: number[] = [];
  const perSecond = setInterval(() => cumulative.push(setCalls()), 1000);
  const answeredMs: number[] = [];
  const answers = Promise.all(
    apis.map(async (api, i) => {
      const result = await api(events[i] ?? apiEvent('{}'), lambdaContext());
      answeredMs.push(performance.now() - t0);
      if (result.statusCode !== 202 && result.statusCode !== 200) throw new Error(`webhook ${i} answered ${result.statusCode}: ${result.body ?? ''}`);
    }),
  );
  const until = Date.now() + 120_000;
  while (applied() < TOTAL && Date.now() < until) await sleep(5);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(watchFirst);
  clearInterval(perSecond);
  cumulative.push(setCalls());
  await answers;
  await stack.drained(60_000).catch(() => undefined);
  const calls = setCalls();
  return {
    seconds,
    usersPerSecond: applied() / seconds,
    timeline: cumulative.map((c, i) => c - (cumulative[i - 1] ?? 0)),
    calls,
    rateLimited: counters.rejectedByCode.get(60007) ?? 0,
    applied: applied(),
    answeredMs: answeredMs.sort((a, b) => a - b),
    firstCallMs,
    maxInWindow: counters.maxCallsInAnyWindow,
  };
}

const results: BurstResult[] = [];
try {
  process.stdout.write(`burst: ${WEBHOOKS} concurrent webhooks × ${USERS_EACH.toLocaleString('en-US')} users, ${WORKERS} worker copies, API share ${API_SHARE} calls/s${values.env === '' ? '' : `, ${values.env}`}\n`);
  for (let run = 0; run < RUNS; run++) {
    const r = await runBurst(run);
    results.push(r);
    const p99 = r.answeredMs[Math.min(r.answeredMs.length - 1, Math.ceil(r.answeredMs.length * 0.99) - 1)] ?? Number.NaN;
    process.stdout.write(
      `burst run ${run + 1}: ${Math.round(r.usersPerSecond).toLocaleString('en-US')} users/s (${r.seconds.toFixed(2)} s for ${r.applied.toLocaleString('en-US')} users); ` +
        `rate-limited ${r.rateLimited}/${r.calls} calls (${((r.rateLimited / Math.max(1, r.calls)) * 100).toFixed(2)} %); ` +
        `${((r.calls / Math.max(1, r.applied)) * 100).toFixed(3)} calls per 100 users; answered p99 ${Math.round(p99)} ms; first IM call ${Math.round(r.firstCallMs)} ms; ` +
        `most im_set_attr in any 1 s window ${r.maxInWindow}\n` +
        `  im_set_attr calls per second: ${r.timeline.join(' ')}\n`,
    );
  }
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  await stack.close();
}
const ok = results.every((r) => r.applied === TOTAL && r.usersPerSecond >= TARGET.usersPerSecond && r.rateLimited / Math.max(1, r.calls) <= TARGET.rateLimitedShare);
process.stdout.write(`burst: targets (≥ 9,300 users/s, ≤ 0.5 % rate-limited, every user applied): ${ok ? 'met' : 'MISSED'}\n`);
process.exitCode = ok ? 0 : 1;
