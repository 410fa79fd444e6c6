/**
 * `npm run bench:fleet`: the API function plus 2, 5 and 10 worker copies, each its own process drawing on the
 * fleet's shared budget (bench/support/local-fleet.ts), against the IM emulator enforcing the global 100 calls/s (20–60 ms latency),
 * for 60 s of sustained work (the lanes queue preloaded) with a burst of webhooks in the middle. Prints users/s against the 10,000
 * ceiling, rate-limit answers as a share of calls, and users lost.
 * Options: --sizes 2,5,10  --seconds 60
 */
import { parseArgs } from 'node:util';
import { planLaneMessages } from '../lib/core/lanes/lane-plan.ts';
import { SqsLanes } from '../lib/queue/sqs-lanes.ts';
import DEFAULTS from '../lib/config/defaults.json' with { type: 'json' };
import { makeUsers } from '../test/helpers/factories.ts';
import { startLocalFleet, type ApiBurstResult } from './support/local-fleet.ts';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '2,5,10' }, seconds: { type: 'string', default: '60' } },
});
const SIZES = values.sizes.split(',').map(Number);
const SECONDS = Number(values.seconds);
const WARMUP_S = 5;
const CEILING = 10_000;
const USERS_PER_MESSAGE = 1_000;
const BURST = { webhooks: 20, usersEach: 2_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FleetResult {
  readonly workers: number;
  readonly usersPerSecond: number;
  readonly rateLimitShare: number;
  readonly rateLimited: number;
  readonly calls: number;
  readonly lost: number;
  readonly burst: ApiBurstResult;
  readonly maxInWindow: number;
}

async function runFleet(workers: number): Promise<FleetResult> {
  const reserved = Math.max(DEFAULTS.workerReservedConcurrency, workers);
  const fleet = await startLocalFleet({
    name: `fleet-${workers}`,
    faults: { latencyMs: [20, 60] },
    env: {
      // The deployed shape: one API copy here, `workers` lanes pollers, reserved concurrency covering them.
      API_MAX_CONCURRENCY: '1',
      WORKER_MAX_CONCURRENCY: String(workers),
      WORKER_RESERVED_CONCURRENCY: String(reserved),
      LOCAL_RETRY_VISIBILITY_SECONDS: '2',
    },
  });
  try {
    const { emulator } = fleet;
    // Enough work in the lanes that the fleet never runs dry during the measured window, as the API writes it.
    const preload = Math.ceil(((SECONDS + WARMUP_S + 15) * CEILING) / USERS_PER_MESSAGE) * USERS_PER_MESSAGE;
    const lanes = new SqsLanes({ client: fleet.sqs, queueUrl: fleet.queues.lanesQueueUrl });
    for (let at = 0; at < preload; at += USERS_PER_MESSAGE * 10) {
      const unsent = await lanes.enqueue(
        planLaneMessages(makeUsers(USERS_PER_MESSAGE * 10, 'fleet', at), DEFAULTS.laneCount, `preload-${at}`),
        { requestId: `preload-${at}`, origin: 'bench' },
      );
      if (unsent.length > 0) throw new Error('preload: lane messages not written');
    }
    const api = await fleet.apiCopy();
    await api.prepare({ ...BURST, prefix: 'burst' });
    for (let i = 0; i < workers; i++) fleet.workerCopy();

    const counters = emulator.counters;
    const setAttrCalls = () => counters.callsByCommand.get('im_set_attr') ?? 0;
    const rateLimited = () => counters.rejectedByCode.get(60007) ?? 0;
    await sleep(WARMUP_S * 1000);
    const start = {
      applied: counters.usersApplied,
      calls: setAttrCalls(),
      limited: rateLimited(),
      at: performance.now(),
    };
    // A burst of webhooks arrives in the middle of the window.
    await sleep((SECONDS * 1000) / 2);
    const burst = api.go();
    await sleep((SECONDS * 1000) / 2);
    const end = {
      applied: counters.usersApplied,
      calls: setAttrCalls(),
      limited: rateLimited(),
      at: performance.now(),
    };
    const burstResult = await burst;

    // Then everything must arrive: the rest of the preload and the burst.
    const expected = preload + BURST.webhooks * BURST.usersEach;
    const until = Date.now() + 180_000;
    while (emulator.attrs.size < expected && Date.now() < until) await sleep(500);
    const calls = end.calls - start.calls;
    const limited = end.limited - start.limited;
    return {
      workers,
      usersPerSecond: (end.applied - start.applied) / ((end.at - start.at) / 1000),
      rateLimitShare: calls === 0 ? 0 : limited / calls,
      rateLimited: limited,
      calls,
      lost: expected - emulator.attrs.size,
      burst: burstResult,
      maxInWindow: counters.maxCallsInAnyWindow,
    };
  } finally {
    await fleet.close();
  }
}

const results: FleetResult[] = [];
for (const workers of SIZES) {
  process.stdout.write(`fleet: API + ${workers} workers, ${SECONDS} s …\n`);
  const r = await runFleet(workers);
  results.push(r);
  process.stdout.write(
    `fleet: API + ${String(r.workers).padStart(2)} workers: ${Math.round(r.usersPerSecond).toLocaleString('en-US')} users/s (${((r.usersPerSecond / CEILING) * 100).toFixed(1)}% of 10,000), ` +
      `rate-limit answers ${r.rateLimited}/${r.calls} calls (${(r.rateLimitShare * 100).toFixed(2)}%), most in any 1 s window ${r.maxInWindow}, lost ${r.lost}; ` +
      `burst of ${BURST.webhooks}×${BURST.usersEach}: applied inline ${r.burst.applied}, queued ${r.burst.queued}, failed ${r.burst.failed}\n`,
  );
}
const ok = results.every((r) => r.usersPerSecond >= 9_300 && r.rateLimitShare <= 0.005 && r.lost === 0);
process.stdout.write(
  `fleet: targets (≥ 9,300 users/s, ≤ 0.5 % rate-limit answers, 0 lost at every size): ${ok ? 'met' : 'MISSED'}\n`,
);
