/**
 * `npm run bench:burst`: what a user sees of a burst. 100,000 users in 5 concurrent signed webhooks of 20,000,
 * through the gateway as a fleet of processes (5 API copies, 2 worker copies each polling the lanes, as Lambda
 * runs them; bench/support/local-fleet.ts) against fauxqs, dynalite and the IM emulator at its real 100 calls/s,
 * timed from the first request to the last user in IM. The copies are warm (each has answered one small
 * webhook): the cold start is measured by bench/cold-start.bench.ts as a ratio to a peer handler.
 * Prints users/s, the per-second timeline of im_set_attr calls, the rate-limited share, IM calls per user,
 * when the webhooks were answered and when the first IM call arrived. Exits non-zero only on the count and
 * ratio targets (≥ 9,300 users/s, ≤ 0.5 % rate-limited, every user applied), never on an absolute time.
 * Four runs by default, so the webhooks' answer times make a p99 over 20 webhooks (each with four others in flight).
 * Then the tags runs: the same burst as tag adds (`POST /v1/user-tags`, two tags a user), which must reach the same
 * share of IM's ceiling: users/s ≥ 0.95 × the attribute runs' median of the same bench run, with the same
 * rate-limited and calls-per-100-users targets.
 * Options (defaults from lib/config/defaults.json): --workers 2  --webhooks 5  --users 20000  --runs 4  --tag-runs 2
 * --env K=V,K=V
 */
import { parseArgs } from 'node:util';
import DEFAULTS from '../lib/config/defaults.json' with { type: 'json' };
import { epochMs, startLocalFleet, type ApiBurstResult } from './support/local-fleet.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: String(DEFAULTS.workerMaxConcurrency) },
    webhooks: { type: 'string', default: '5' },
    users: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '4' },
    'tag-runs': { type: 'string', default: '2' },
    env: { type: 'string', default: '' },
  },
});
const WORKERS = Number(values.workers);
const WEBHOOKS = Number(values.webhooks);
const USERS_EACH = Number(values.users);
const RUNS = Number(values.runs);
const TAG_RUNS = Number(values['tag-runs']);
const EXTRA_ENV = Object.fromEntries(
  values.env
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const TOTAL = WEBHOOKS * USERS_EACH;
const TARGET = { usersPerSecond: 9_300, rateLimitedShare: 0.005, callsPer100Users: 1.02, tagsToAttrs: 0.95 } as const;
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
  /** DynamoDB UpdateItem requests during the burst: the budget's leases and rate reports, and one per webhook's idempotency record. */
  readonly updateItems: number;
}

/** IM's write command of a burst, and what the emulator holds of its users. */
function burstKind(tags: boolean) {
  return tags
    ? { command: 'im_add_tag', held: (e: { tags: ReadonlyMap<string, unknown> }) => e.tags.size }
    : { command: 'im_set_attr', held: (e: { attrs: ReadonlyMap<string, unknown> }) => e.attrs.size };
}

async function runBurst(run: number, tags = false): Promise<BurstResult> {
  const kind = burstKind(tags);
  const fleet = await startLocalFleet({
    name: `burst-${run}`,
    env: {
      // The deployed shape: the API's copies bounded, the worker's reserved concurrency covering its pollers.
      API_MAX_CONCURRENCY: String(WEBHOOKS),
      WORKER_MAX_CONCURRENCY: String(WORKERS),
      WORKER_RESERVED_CONCURRENCY: String(Math.max(DEFAULTS.workerReservedConcurrency, WORKERS)),
      ...EXTRA_ENV,
    },
  });
  try {
    const { emulator } = fleet;
    const counters = emulator.counters;
    const apis = await Promise.all(Array.from({ length: WEBHOOKS }, () => fleet.apiCopy()));
    for (let i = 0; i < WORKERS; i++) fleet.workerCopy();
    // Warm copies, as in a burst that follows earlier traffic: cold start is its own benchmark.
    await Promise.all(apis.map((api, i) => api.prepare({ webhooks: 1, usersEach: 10, prefix: `warm-${run}-${i}` })));
    await Promise.all(apis.map((api) => api.go()));
    await Promise.all(
      apis.map((api, i) => api.prepare({ webhooks: 1, usersEach: USERS_EACH, prefix: `burst-${run}-${i}`, tags })),
    );
    while (emulator.attrs.size < WEBHOOKS * 10) await sleep(20);
    await sleep(1000);
    const warm = kind.held(emulator);
    const applied = () => kind.held(emulator) - warm;
    counters.callsByCommand.clear();
    counters.rejectedByCode.clear();
    counters.maxCallsInAnyWindow = 0;

    const setCalls = () => counters.callsByCommand.get(kind.command) ?? 0;
    const updateItems = async () => (await fleet.dynamodbRequests())['DynamoDB_20120810.UpdateItem'] ?? 0;
    const updatesBefore = await updateItems();
    const t0 = epochMs();
    let firstCallMs = Number.NaN;
    // Polled every ms until the first call, then stopped: the bench process also runs the emulator.
    const watchFirst = setInterval(() => {
      if (setCalls() === 0) return;
      firstCallMs = epochMs() - t0;
      clearInterval(watchFirst);
    }, 1);
    const cumulative: number[] = [];
    const perSecond = setInterval(() => cumulative.push(setCalls()), 1000);
    const answers = Promise.all(apis.map((api) => api.go()));
    const until = Date.now() + 120_000;
    while (applied() < TOTAL && Date.now() < until) await sleep(5);
    const seconds = (epochMs() - t0) / 1000;
    clearInterval(watchFirst);
    clearInterval(perSecond);
    cumulative.push(setCalls());
    const results: ApiBurstResult[] = await answers;
    const failed = results.reduce((n, r) => n + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} webhooks were not accepted`);
    const calls = setCalls();
    const updatesDuring = (await updateItems()) - updatesBefore;
    return {
      updateItems: updatesDuring,
      seconds,
      usersPerSecond: applied() / seconds,
      timeline: cumulative.map((c, i) => c - (cumulative[i - 1] ?? 0)),
      calls,
      rateLimited: counters.rejectedByCode.get(60007) ?? 0,
      applied: applied(),
      answeredMs: results.flatMap((r) => r.answeredAt.map((at) => at - t0)).sort((a, b) => a - b),
      firstCallMs,
      maxInWindow: counters.maxCallsInAnyWindow,
    };
  } finally {
    await fleet.close();
  }
}

/** One line per run, and whether it met the count and ratio targets (the tags runs' speed is judged after). */
function report(label: string, run: number, r: BurstResult): boolean {
  const p99 = r.answeredMs[Math.min(r.answeredMs.length - 1, Math.ceil(r.answeredMs.length * 0.99) - 1)] ?? Number.NaN;
  const command = burstKind(label === 'tags').command;
  process.stdout.write(
    `burst ${label} run ${run + 1}: ${Math.round(r.usersPerSecond).toLocaleString('en-US')} users/s (${r.seconds.toFixed(2)} s for ${r.applied.toLocaleString('en-US')} users); ` +
      `rate-limited ${r.rateLimited}/${r.calls} calls (${((r.rateLimited / Math.max(1, r.calls)) * 100).toFixed(2)} %); ` +
      `${((r.calls / Math.max(1, r.applied)) * 100).toFixed(3)} calls per 100 users; answered p99 ${Math.round(p99)} ms; first IM call ${Math.round(r.firstCallMs)} ms after the first request; ` +
      `most ${command} in any 1 s window ${r.maxInWindow}; DynamoDB UpdateItem ${r.updateItems} (${WEBHOOKS} of them idempotency records): ` +
      `${((r.updateItems - WEBHOOKS) / Math.max(1, r.calls)).toFixed(3)} budget writes per IM call\n` +
      `  ${command} calls per second: ${r.timeline.join(' ')}\n`,
  );
  return (
    r.applied === TOTAL &&
    r.rateLimited / Math.max(1, r.calls) <= TARGET.rateLimitedShare &&
    (r.calls / Math.max(1, r.applied)) * 100 <= TARGET.callsPer100Users
  );
}

const results: BurstResult[] = [];
process.stdout.write(
  `burst: ${WEBHOOKS} concurrent webhooks × ${USERS_EACH.toLocaleString('en-US')} users, ${WEBHOOKS} API copies, ${WORKERS} worker copies${values.env === '' ? '' : `, ${values.env}`}\n`,
);
let countsMet = true;
for (let run = 0; run < RUNS; run++) {
  const r = await runBurst(run);
  results.push(r);
  countsMet = report('attributes', run, r) && countsMet;
}
const answered = results.flatMap((r) => r.answeredMs).sort((a, b) => a - b);
const firstCalls = results.map((r) => r.firstCallMs).sort((a, b) => a - b);
process.stdout.write(
  `burst: webhooks answered p99 over all ${answered.length}: ${Math.round(answered[Math.max(0, Math.ceil(answered.length * 0.99) - 1)] ?? Number.NaN)} ms; ` +
    `first IM call ${Math.round(firstCalls[0] ?? Number.NaN)}–${Math.round(firstCalls.at(-1) ?? Number.NaN)} ms after the first request (absolute times, information)\n`,
);
const attrsOk = countsMet && results.every((r) => r.usersPerSecond >= TARGET.usersPerSecond);
process.stdout.write(
  `burst: attribute targets (≥ 9,300 users/s, ≤ 0.5 % rate-limited, ≤ 1.02 calls per 100 users, every user applied): ${attrsOk ? 'met' : 'MISSED'}\n`,
);
const sorted = results.map((r) => r.usersPerSecond).sort((a, b) => a - b);
const attrsMedian = sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
let tagsOk = true;
for (let run = 0; run < TAG_RUNS; run++) {
  const r = await runBurst(RUNS + run, true);
  const ratio = r.usersPerSecond / attrsMedian;
  tagsOk = report('tags', run, r) && ratio >= TARGET.tagsToAttrs && tagsOk;
  process.stdout.write(`  ${ratio.toFixed(3)} × the attribute runs' median (${Math.round(attrsMedian)} users/s)\n`);
}
if (TAG_RUNS > 0)
  process.stdout.write(
    `burst: tags targets (≥ ${TARGET.tagsToAttrs} × the attribute median, ≤ 0.5 % rate-limited, ≤ 1.02 calls per 100 users, every user applied): ${tagsOk ? 'met' : 'MISSED'}\n`,
  );
process.exitCode = attrsOk && tagsOk ? 0 : 1;
