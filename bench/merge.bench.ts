/**
 * Merging in the lanes, at the use-case level (in-memory lanes and IM, so only calls are counted):
 * 200,000 updates over 20,000 users (10 rounds of the same users, as repeated full syncs queue up behind a
 * busy lane) must cost at most 1.1 × the IM calls of the 20,000 distinct users. The lanes are drained the
 * way the deployed worker does: event batches of up to 10 records (several of one message group, as AWS's FIFO
 * event source hands them), each invocation gathering more records itself in rounds of `workerGatherMaxRecords`
 * (a saturated budget: rounds fill up).
 * Random updates are printed for information. Exits non-zero when the target or the final state is missed.
 */
import { DEFAULTS } from '../lib/config/config.ts';
import { acceptWebhook } from '../lib/core/usecases/accept-webhook.ts';
import { processLanes } from '../lib/core/usecases/process-lanes.ts';
import type { UserUpdate } from '../lib/core/rules/types.ts';
import { FakeDeadLetters, FakeIm, FakeLanes, FakeLaneSource, FixedNames, prng } from '../test/helpers/fakes.ts';

const USERS = 20_000;
const ROUNDS = 10;
const NAMES = ['sex', 'city', 'tier', 'lang'];
const TARGET = 1.1;

interface Run {
  readonly calls: number;
  readonly updates: number;
  readonly state: Record<string, Record<string, string>>;
}

/** Accepts each request into the lanes (no early write), then drains them; counts IM calls. */
async function run(requests: readonly (readonly UserUpdate[])[], laneCount: number): Promise<Run> {
  const im = new FakeIm();
  const lanes = new FakeLanes();
  const attrNames = new FixedNames(NAMES);
  const deadlineMs = Date.now() + 3_600_000;
  let n = 0;
  for (const users of requests) {
    await acceptWebhook(
      { writer: im, attrNames, lanes, laneCount, inlineChunks: 0 },
      { requestId: `r${n}`, key: `k${n++}`, body: { UserAttrs: users }, deadlineMs },
    );
  }
  const source = new FakeLaneSource(lanes.queue);
  const deps = {
    writer: im,
    attrNames,
    deadLetters: new FakeDeadLetters(),
    redelivery: lanes.queue.redelivery,
    outageToleranceMs: 1e12,
    retryMaxSeconds: 1,
    source,
    gather: { forMs: DEFAULTS.workerGatherMs, maxRecords: DEFAULTS.workerGatherMaxRecords },
  };
  for (let batch = lanes.queue.receive({ max: 10 }); batch.length > 0; batch = lanes.queue.receive({ max: 10 })) {
    lanes.queue.settle(batch, (await processLanes(deps, batch, deadlineMs)).failedIds);
  }
  return { calls: im.callSizes().length, updates: requests.reduce((s, r) => s + r.length, 0), state: im.snapshot() };
}

const account = (i: number): string => `user-${i}`;
const round = (r: number): UserUpdate[] =>
  Array.from({ length: USERS }, (_, i) => ({
    To_Account: account(i),
    Attrs: { city: `c${r}-${i % 97}`, tier: `t${(r + i) % 5}` },
  }));

const rng = prng(42);
const random = (n: number): number => rng.int(n);

const laneCount = DEFAULTS.laneCount;
const distinct = await run([round(0)], laneCount);
const repeated = await run(
  Array.from({ length: ROUNDS }, (_, r) => round(r)),
  laneCount,
);
const randomRequests = Array.from({ length: 20 }, (_, r) =>
  Array.from({ length: (USERS * ROUNDS) / 20 }, (_, i): UserUpdate => ({
    To_Account: account(random(USERS)),
    Attrs: { [NAMES[random(NAMES.length)] ?? 'city']: `v${r}-${i}` },
  })),
);
const randomRun = await run(randomRequests, laneCount);

const expected = round(ROUNDS - 1);
const stateOk = expected.every((u) => JSON.stringify(repeated.state[u.To_Account]) === JSON.stringify(u.Attrs));
const ratio = repeated.calls / distinct.calls;
console.log(
  `merge: laneCount ${laneCount}; ${USERS.toLocaleString('en')} distinct users → ${distinct.calls} calls (ideal ${USERS / 100})`,
);
console.log(
  `merge: ${repeated.updates.toLocaleString('en')} updates (${ROUNDS} rounds of the same users) → ${repeated.calls} calls, ratio ${ratio.toFixed(3)} (target ≤ ${TARGET}); final state ${stateOk ? 'correct' : 'WRONG'}`,
);
console.log(
  `merge: ${randomRun.updates.toLocaleString('en')} random updates over ${USERS.toLocaleString('en')} users → ${randomRun.calls} calls, ratio ${(randomRun.calls / distinct.calls).toFixed(2)} (information: a round spans at most workerGatherMaxRecords records)`,
);
// How the lane count moves both figures (the default is chosen from these; it also caps the worker fleet).
for (const lanesTried of process.argv.includes('--lanes') ? [20, 64, 128, 250, 500] : []) {
  const five = await run(
    Array.from({ length: 5 }, (_, r) => round(r).map((u) => ({ ...u, To_Account: `${u.To_Account}-${r}` }))),
    lanesTried,
  );
  const one = await run([round(0)], lanesTried);
  const ten = await run(
    Array.from({ length: ROUNDS }, (_, r) => round(r)),
    lanesTried,
  );
  console.log(
    `merge: laneCount ${lanesTried}: 5 × ${USERS.toLocaleString('en')} distinct users → ${((five.calls * 100) / (5 * USERS)).toFixed(3)} calls per 100 users; merge ratio ${(ten.calls / one.calls).toFixed(3)}`,
  );
}
process.exitCode = ratio <= TARGET && stateOk ? 0 : 1;
