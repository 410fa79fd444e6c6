/**
 * The central promise, property-based: whatever the faults, redeliveries, batch shapes and the moments
 * early writes land, once everything is drained IM holds, for every (user, attribute), the value of the
 * last accepted update (a removed attribute absent), and for every user the tag set of the accepted tag
 * operations applied in order (tag requests interleaved with attribute requests of the same users).
 *
 * "Accepted" is the moment a user enters its lane: `acceptWebhook` (sequential producer: it waits for
 * the answer before sending the next webhook) or `relaneIntake` (intake producers, each in its own
 * message group). The oracle folds, per user, each request's own merged entries (rebuilt here from the
 * generated bodies, not read back from the lanes) in the order the request first entered the user's lane,
 * and separately checks that this order respects each producer's order.
 *
 * Model: each producer sends its next webhook after the previous answer, so an early write lands before
 * anything newer enters the lanes. Overlapping requests are concurrent updates, which may land in either
 * order (see the test at the end).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptWebhook, readTagsWebhook, type AcceptWebhookDeps } from '../../../lib/core/usecases/accept-webhook.ts';
import type { QueueRecord } from '../../../lib/core/ports.ts';
import {
  processLaneBatch,
  type LaneBatchDeps,
  type LaneBatchOutcome,
} from '../../../lib/core/usecases/process-lane-batch.ts';
import { processLanes } from '../../../lib/core/usecases/process-lanes.ts';
import { relaneIntake, type RelaneDeps } from '../../../lib/core/usecases/relane-intake.ts';
import {
  FakeClock,
  FakeDeadLetters,
  FakeFifoQueue,
  FakeIm,
  FakeLanes,
  FakeLaneSource,
  FixedNames,
  ParkingWriter,
  flush,
  prng,
  type ImFault,
} from '../../helpers/fakes.ts';

const SEED = 7_340_101;
const RUNS = 1000;
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => `acc-${i}`);
const NAMES = ['sex', 'city', 'tier', 'lang'] as const;
const LANE_COUNT = 3;
const TAGS = ['a', 'b', 'c', 'd'] as const;
const ALLOWED_LETTER_RULES = new Set(['attr-name-unregistered', 'relane-window-exceeded', 'tag-max-50-bytes']);

type Rng = ReturnType<typeof prng>;

interface EntrySpec {
  readonly account: string;
  /** Names and whether each is set (to a value unique to the update and entry) or removed. */
  readonly attrs: readonly (readonly [name: string, op: 'set' | 'remove'])[];
  /** Carries an unregistered name too: the rules refuse the whole entry. */
  readonly invalid: boolean;
}

interface TagEntrySpec {
  readonly account: string;
  readonly removeAll: boolean;
  readonly remove: readonly string[];
  readonly add: readonly string[];
  /** Carries a 51-byte tag too: the rules refuse the whole entry. */
  readonly invalid: boolean;
}

interface UpdateSpec {
  readonly entries: readonly EntrySpec[];
  /** When set, the update is a tags request (`entries` unused). */
  readonly tags?: readonly TagEntrySpec[];
  readonly route: 'api' | 'intake';
  readonly producer: number;
}

type Step =
  | { readonly kind: 'accept'; readonly seed: number }
  | {
      readonly kind: 'lanes';
      readonly seed: number;
      readonly concurrent: boolean;
      readonly crash: boolean;
      readonly gather: boolean;
    }
  | { readonly kind: 'intake'; readonly seed: number; readonly crash: boolean }
  /** An intake invocation that wrote its lanes, then timed out: the message comes back past the windows. */
  | { readonly kind: 'late-intake'; readonly seed: number }
  | { readonly kind: 'release'; readonly seed: number }
  | { readonly kind: 'tick'; readonly ms: number };

interface Scenario {
  readonly updates: readonly UpdateSpec[];
  readonly steps: readonly Step[];
}

const seedArb = fc.integer({ min: 0, max: 0x7fffffff });
const entryArb: fc.Arbitrary<EntrySpec> = fc.record({
  account: fc.constantFrom(...ACCOUNTS),
  attrs: fc.uniqueArray(
    fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom<'set' | 'remove'>('set', 'set', 'remove')),
    { minLength: 1, maxLength: 4, selector: ([name]) => name },
  ),
  // One entry in 20 also carries an unregistered name.
  invalid: fc.integer({ min: 0, max: 19 }).map((roll) => roll === 0),
});
const tagEntryArb: fc.Arbitrary<TagEntrySpec> = fc
  .record({
    account: fc.constantFrom(...ACCOUNTS),
    removeAll: fc.integer({ min: 0, max: 4 }).map((roll) => roll === 0),
    remove: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 2 }),
    add: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
    invalid: fc.integer({ min: 0, max: 19 }).map((roll) => roll === 0),
  })
  .filter((e) => e.removeAll || e.remove.length > 0 || e.add.length > 0);
const updateArb: fc.Arbitrary<UpdateSpec> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      entries: fc.array(entryArb, { minLength: 1, maxLength: 5 }),
      route: fc.constantFrom<'api' | 'intake'>('api', 'intake'),
      producer: fc.integer({ min: 0, max: 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      entries: fc.constant([]),
      tags: fc.array(tagEntryArb, { minLength: 1, maxLength: 5 }),
      route: fc.constantFrom<'api' | 'intake'>('api', 'intake'),
      producer: fc.integer({ min: 0, max: 1 }),
    }),
  },
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('accept' as const), seed: seedArb }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('lanes' as const),
      seed: seedArb,
      concurrent: fc.boolean(),
      crash: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      gather: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('intake' as const),
      seed: seedArb,
      crash: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), seed: seedArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('late-intake' as const), seed: seedArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 5_000 }) }) },
);
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  updates: fc.array(updateArb, { minLength: 1, maxLength: 14, size: 'max' }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }),
});

/** The body of update `i`: values unique to the update and entry, so any mix-up shows in IM. */
function bodyOf(update: UpdateSpec, i: number): object {
  if (update.tags !== undefined)
    return {
      UserTags: update.tags.map((entry) => ({
        To_Account: entry.account,
        ...(entry.removeAll ? { RemoveAll: true } : {}),
        ...(entry.remove.length > 0 ? { Remove: entry.remove } : {}),
        ...(entry.add.length > 0 || entry.invalid
          ? { Add: [...entry.add, ...(entry.invalid ? ['x'.repeat(51)] : [])] }
          : {}),
      })),
    };
  return {
    UserAttrs: update.entries.map((entry, j) => ({
      To_Account: entry.account,
      Attrs: Object.fromEntries([
        ...entry.attrs.map(([name, op]) => [name, op === 'remove' ? null : `u${i}e${j}`]),
        ...(entry.invalid ? [['planet', 'x']] : []),
      ]),
    })),
  };
}

/** What tags request `update` does, per account: its valid entries' operations applied to a held set, in order. */
function intendedTagsOf(update: UpdateSpec): Map<string, ((held: Set<string>) => void)[]> {
  const ops = new Map<string, ((held: Set<string>) => void)[]>();
  for (const entry of update.tags ?? []) {
    if (entry.invalid) continue;
    const list = ops.get(entry.account) ?? [];
    list.push((held) => {
      if (entry.removeAll) held.clear();
      for (const tag of entry.remove) held.delete(tag);
      for (const tag of entry.add) held.add(tag);
    });
    ops.set(entry.account, list);
  }
  return ops;
}

/** What update `i` asks for, per account: its valid entries merged, later entries winning per name. */
function intendedOf(update: UpdateSpec, i: number): Map<string, Map<string, string | null>> {
  const merged = new Map<string, Map<string, string | null>>();
  update.entries.forEach((entry, j) => {
    if (entry.invalid) return;
    const attrs = merged.get(entry.account) ?? new Map<string, string | null>();
    for (const [name, op] of entry.attrs) attrs.set(name, op === 'remove' ? null : `u${i}e${j}`);
    merged.set(entry.account, attrs);
  });
  return merged;
}

/** One IM fault, or none, drawn from `rng`: only faults worth retrying (the drain must end clean). */
function imFault(rng: Rng): ImFault | undefined {
  const x = rng.next();
  if (x < 0.55) return undefined;
  if (x < 0.64) return { kind: 'error', errorCode: 91000 };
  if (x < 0.7) return { kind: 'error', errorCode: 60007 };
  if (x < 0.8) return { kind: 'users', errorCode: 91000, accounts: () => rng.chance(0.5) };
  // A timeout after IM applied the write: the client cannot tell.
  if (x < 0.87) return { kind: 'error', errorCode: -1, applied: true };
  if (x < 0.94) return { kind: 'deadline', attempts: 0 };
  return { kind: 'deadline', attempts: 1 };
}

/** A deliberately broken worker, to show the oracle catches it. */
type Variant = 'correct' | 'reversed-records' | 'ack-everything';

/** What a run exercised, summed over all runs: the property must not pass by never getting there. */
const coverage = {
  laneBatches: 0,
  sameLaneBatches: 0,
  failedRecords: 0,
  crashes: 0,
  concurrentBatches: 0,
  earlyWrites: 0,
  lateEarlyWrites: 0,
  intakeRecords: 0,
  refusedAccepts: 0,
  lateIntakes: 0,
  gatherRounds: 0,
  undeleted: 0,
  tagCalls: 0,
  failedTagCalls: 0,
};

/** IM's users' attributes and tags. */
interface ImState {
  readonly attrs: Record<string, Record<string, string>>;
  readonly tags: Record<string, string[]>;
}

interface RunResult {
  readonly actual: ImState;
  readonly expected: ImState;
  /** Broken promises other than the final state: order of producers, lost users, stray dead letters. */
  readonly problems: readonly string[];
}

async function simulate(scenario: Scenario, variant: Variant = 'correct'): Promise<RunResult> {
  // Prepare
  const clock = new FakeClock();
  const im = new FakeIm();
  const early = new ParkingWriter(im);
  const lanes = new FakeLanes({ now: clock.now, visibilityTimeoutSeconds: 30 });
  const intake = new FakeFifoQueue({ name: 'intake', now: clock.now, visibilityTimeoutSeconds: 30 });
  const deadLetters = new FakeDeadLetters();
  const attrNames = new FixedNames(NAMES);
  let chaos: Rng | undefined;
  im.failWhen((call) => {
    const fault = chaos === undefined ? undefined : imFault(chaos);
    if (fault !== undefined && call.kind.endsWith('-tags')) coverage.failedTagCalls++;
    return fault;
  });
  lanes.failWhen(() => chaos?.chance(0.15) ?? false);

  const apiDeps: AcceptWebhookDeps = { writer: early, attrNames, lanes, laneCount: LANE_COUNT, inlineChunks: 1 };
  const laneDeps: LaneBatchDeps = {
    writer: im,
    attrNames,
    deadLetters,
    redelivery: lanes.queue.redelivery,
    outageToleranceMs: 1e12,
    retryMaxSeconds: 8,
    now: clock.now,
  };
  const relaneDeps: RelaneDeps = {
    attrNames,
    lanes,
    deadLetters,
    redelivery: intake.redelivery,
    laneCount: LANE_COUNT,
    retryWindowMs: 120_000,
    now: clock.now,
  };
  const problems: string[] = [];

  const laneBatch = async (records: readonly QueueRecord[]): Promise<LaneBatchOutcome> => {
    const given = variant === 'reversed-records' ? [...records].reverse() : records;
    const outcome = await processLaneBatch(laneDeps, given, clock.now() + 10_000);
    return variant === 'ack-everything' ? { ...outcome, failedIds: [] } : outcome;
  };
  const laneWritesSeen = new Set<string>();
  const releaseEarly = (index: number): void => {
    if (early.parked === 0) return;
    coverage.earlyWrites++;
    // Did the worker already write (some of) these lanes? Then this early write lands late.
    if (laneWritesSeen.size > 0) coverage.lateEarlyWrites++;
    early.release(index);
  };

  // The accepting side: one webhook at a time (the producer waits for the answer), intake messages in groups.
  let next = 0;
  let pendingAccept:
    { readonly done: Promise<void>; readonly status: { refused: boolean }; readonly index: number } | undefined;
  const sendWebhook = async (i: number, rng: Rng | undefined, firstAttempt: number): Promise<void> => {
    const update = scenario.updates[i] as UpdateSpec;
    const body = bodyOf(update, i);
    for (let attempt = firstAttempt; ; attempt++) {
      chaos = attempt < 3 ? rng : undefined;
      const status = { refused: false };
      const input = { requestId: `req-${i}`, key: `hook-${i}`, deadlineMs: clock.now() + 5_000 };
      const done = acceptWebhook(
        apiDeps,
        update.tags === undefined
          ? { ...input, body }
          : { ...input, read: Promise.resolve(readTagsWebhook(apiDeps, input.key, body)) },
      ).then(
        () => undefined,
        () => {
          status.refused = true;
        },
      );
      // Its early write's lanes are in (or it is refused) and that write, if any, is parked.
      await flush();
      if (status.refused) {
        // The producer sends it again with the same webhook-id.
        coverage.refusedAccepts++;
        continue;
      }
      pendingAccept = { done, status, index: i };
      return;
    }
  };
  const finishAccept = async (): Promise<void> => {
    while (pendingAccept !== undefined) {
      releaseEarly(0);
      await flush();
      if (early.parked === 0) {
        const { done, status, index } = pendingAccept;
        await done;
        pendingAccept = undefined;
        // Refused after its early write (lanes written after it failed): the producer sends it again.
        if (status.refused) {
          coverage.refusedAccepts++;
          await sendWebhook(index, undefined, 3);
        }
      }
    }
  };
  const acceptNext = async (rng: Rng | undefined): Promise<void> => {
    const i = next++;
    const update = scenario.updates[i];
    if (update === undefined) return;
    if (update.route === 'intake') {
      intake.send({
        group: `producer-${update.producer}`,
        body: JSON.stringify(bodyOf(update, i)),
        requestId: `req-${i}`,
      });
      return;
    }
    await sendWebhook(i, rng, 0);
  };

  const intakeStep = async (rng: Rng | undefined, crash: boolean): Promise<void> => {
    const records = intake.receive(rng === undefined ? {} : { random: rng.int });
    if (records.length === 0) return;
    coverage.intakeRecords += records.length;
    const outcome = await relaneIntake(relaneDeps, records);
    if (crash) intake.abandon(records);
    else intake.settle(records, outcome.failedIds);
  };

  /**
   * One invocation of the worker on an event batch; with `gather`, it also receives records itself (random
   * receives, rounds of random size, the budget idle or not), and some of its deletes fail.
   */
  const invoke = async (records: readonly QueueRecord[], rng: Rng | undefined, gather: boolean) => {
    if (!gather || variant !== 'correct' || rng === undefined)
      return {
        outcome: await laneBatch(records),
        gathered: [] as QueueRecord[],
        gatheredFailed: [] as string[],
        undeleted: [] as QueueRecord[],
      };
    const source = new FakeLaneSource(lanes.queue, rng.int);
    if (rng.chance(0.5)) source.failDeletesWhen(() => rng.chance(0.7));
    const outcome = await processLanes(
      {
        ...laneDeps,
        source,
        budgetIdle: () => rng.chance(0.5),
        gather: { forMs: 1e9, maxRecords: 1 + rng.int(25), reserveMs: 0 },
      },
      records,
      clock.now() + 10_000,
    );
    coverage.gatherRounds += outcome.rounds - 1;
    coverage.undeleted += source.undeleted.length;
    // Records left undeleted (a failed delete, and the later records of its lane) stay in flight until their timeout.
    return {
      outcome,
      gathered: source.received,
      gatheredFailed: [...outcome.gatheredFailedIds],
      undeleted: source.received.filter((r) => outcome.undeletedIds.includes(r.id)),
    };
  };

  const lanesStep = async (
    rng: Rng | undefined,
    concurrent: boolean,
    crash: boolean,
    gather = false,
  ): Promise<void> => {
    const batches = [lanes.queue.receive(rng === undefined ? {} : { random: rng.int })];
    if (concurrent) batches.push(lanes.queue.receive(rng === undefined ? {} : { random: rng.int }));
    const work = batches
      .filter((records) => records.length > 0)
      .map(async (records) => {
        coverage.laneBatches++;
        if (new Set(records.map((r) => r.group)).size < records.length) coverage.sameLaneBatches++;
        return { records, ...(await invoke(records, rng, gather)) };
      });
    if (work.length > 1) coverage.concurrentBatches++;
    // An early write may land while the batch is on its way to IM.
    if (rng?.chance(0.3) === true) releaseEarly(rng.int(Math.max(1, early.parked)));
    for (const { records, outcome, gathered, gatheredFailed, undeleted } of await Promise.all(work)) {
      for (const r of [...records, ...gathered]) laneWritesSeen.add(r.group);
      coverage.failedRecords += outcome.failedIds.length + gatheredFailed.length;
      const failedGathered = gathered.filter((r) => gatheredFailed.includes(r.id));
      if (crash) {
        // The invocation dies after its IM calls: nothing more is deleted; what is in flight comes back later.
        coverage.crashes++;
        lanes.queue.abandon([...records, ...failedGathered, ...undeleted]);
      } else {
        lanes.queue.settle(records, outcome.failedIds);
        // SQS brings a failed gathered record back after the backoff set on it; an undeleted one after its
        // visibility timeout.
        lanes.queue.fail(failedGathered);
        lanes.queue.abandon(undeleted);
      }
    }
  };

  // Act: the generated interleaving.
  for (const step of scenario.steps) {
    switch (step.kind) {
      case 'accept': {
        const rng = prng(step.seed);
        chaos = rng;
        await finishAccept();
        await acceptNext(rng);
        break;
      }
      case 'intake': {
        // Model assumption: the pending early write has landed before newer work enters the lanes.
        chaos = undefined;
        await finishAccept();
        const rng = prng(step.seed);
        chaos = rng;
        if (rng.chance(0.1)) deadLetters.failNext();
        if (rng.chance(0.1)) intake.redelivery.failNext();
        if (rng.chance(0.05)) lanes.throwNext(new Error('connection reset'), rng.chance(0.5));
        await intakeStep(rng, step.crash);
        break;
      }
      case 'lanes': {
        const rng = prng(step.seed);
        chaos = rng;
        if (rng.chance(0.1)) deadLetters.failNext();
        if (rng.chance(0.1)) lanes.queue.redelivery.failNext();
        await lanesStep(rng, step.concurrent, step.crash, step.gather);
        break;
      }
      case 'late-intake': {
        chaos = undefined;
        await finishAccept();
        const records = intake.receive({ random: prng(step.seed).int });
        if (records.length === 0) break;
        coverage.lateIntakes += records.length;
        await relaneIntake(relaneDeps, records);
        // The invocation times out after writing: the records come back after the visibility timeout, and by then
        // both the re-lane window and SQS's deduplication window (5 minutes) are over.
        intake.abandon(records);
        clock.advance(301_000);
        break;
      }
      case 'release': {
        const rng = prng(step.seed);
        chaos = rng;
        releaseEarly(rng.int(Math.max(1, early.parked)));
        await flush();
        break;
      }
      case 'tick':
        clock.advance(step.ms);
        break;
    }
    chaos = undefined;
  }

  // Faults off; the rest of the updates accepted; everything drained.
  chaos = undefined;
  lanes.heal();
  deadLetters.heal();
  lanes.queue.redelivery.heal();
  intake.redelivery.heal();
  await finishAccept();
  while (next < scenario.updates.length) {
    await acceptNext(undefined);
    await finishAccept();
  }
  for (let round = 0; round < 1_000 && (intake.size > 0 || lanes.queue.size > 0); round++) {
    const before = intake.size + lanes.queue.size;
    await intakeStep(undefined, false);
    await lanesStep(undefined, false, false);
    if (intake.size + lanes.queue.size === before) {
      const wake = Math.min(intake.nextVisibleAt() ?? Infinity, lanes.queue.nextVisibleAt() ?? Infinity);
      clock.advance(Number.isFinite(wake) ? Math.max(1, wake - clock.now()) : 1_000);
    }
  }
  if (intake.size > 0 || lanes.queue.size > 0)
    problems.push(`not drained: ${intake.size} intake and ${lanes.queue.size} lane messages left`);

  // Assess: the oracle.
  const intended = new Map(scenario.updates.map((u, i) => [`req-${i}`, intendedOf(u, i)]));
  const intendedTags = new Map(scenario.updates.map((u, i) => [`req-${i}`, intendedTagsOf(u)]));
  const firstEntries = new Map<string, string[]>();
  const firstTagEntries = new Map<string, string[]>();
  for (const append of lanes.appended) {
    for (const [into, users] of [
      [firstEntries, append.users],
      [firstTagEntries, append.tags],
    ] as const) {
      for (const user of users) {
        const list = into.get(user.To_Account) ?? [];
        if (!list.includes(append.requestId)) list.push(append.requestId);
        into.set(user.To_Account, list);
      }
    }
  }
  const expectedTags = new Map<string, Set<string>>();
  for (const [account, requests] of firstTagEntries) {
    const held = new Set<string>();
    for (const requestId of requests) {
      const ops = intendedTags.get(requestId)?.get(account);
      if (ops === undefined)
        problems.push(`${account}'s tags entered the lane from ${requestId}, which did not carry them`);
      for (const op of ops ?? []) op(held);
    }
    if (held.size > 0) expectedTags.set(account, held);
  }
  const expected = new Map<string, Map<string, string>>();
  for (const [account, requests] of firstEntries) {
    const attrs = new Map<string, string>();
    for (const requestId of requests) {
      const wanted = intended.get(requestId)?.get(account);
      if (wanted === undefined) {
        problems.push(`${account} entered its lane from ${requestId}, which did not carry it`);
        continue;
      }
      for (const [name, value] of wanted) {
        if (value === null) attrs.delete(name);
        else attrs.set(name, value);
      }
    }
    if (attrs.size > 0) expected.set(account, attrs);
  }

  // Each producer's own order: webhooks in the order sent; each intake group in its order.
  const indexOf = (requestId: string): number => Number(requestId.slice('req-'.length));
  for (const [account, requests] of [...firstEntries, ...firstTagEntries]) {
    const sequences = new Map<string, number[]>();
    for (const requestId of requests) {
      const update = scenario.updates[indexOf(requestId)];
      const producer = update?.route === 'api' ? 'api' : `intake-${update?.producer}`;
      sequences.set(producer, [...(sequences.get(producer) ?? []), indexOf(requestId)]);
    }
    for (const [producer, order] of sequences) {
      if (order.some((n, k) => k > 0 && n < (order[k - 1] ?? 0)))
        problems.push(`${account}: ${producer} updates entered the lane out of order: ${order.join(', ')}`);
    }
  }

  // Nothing lost: every intended user entered its lane, or was dead-lettered for the re-lane window.
  const windowedEntries = (l: (typeof deadLetters.letters)[number]): readonly { To_Account: string }[] => {
    if (l.why.rule !== 'relane-window-exceeded') return [];
    if ('entries' in l) return l.entries as { To_Account: string }[];
    const body = JSON.parse(l.raw) as { UserAttrs?: { To_Account: string }[]; UserTags?: { To_Account: string }[] };
    return body.UserAttrs ?? body.UserTags ?? [];
  };
  const windowed = new Set(
    deadLetters.letters.flatMap((l) => windowedEntries(l).map((e) => `${l.why.requestId}|${e.To_Account}`)),
  );
  for (const [requests, entered] of [
    [intended, firstEntries],
    [intendedTags, firstTagEntries],
  ] as const) {
    for (const [requestId, users] of requests) {
      for (const account of users.keys()) {
        if (!(entered.get(account) ?? []).includes(requestId) && !windowed.has(`${requestId}|${account}`))
          problems.push(`${account} of ${requestId} never entered its lane`);
      }
    }
  }
  const tagKinds = new Set(['add-tags', 'remove-tags', 'remove-all-tags']);
  coverage.tagCalls += im.calls.filter((c) => tagKinds.has(c.kind)).length;
  for (const rule of deadLetters.rules())
    if (!ALLOWED_LETTER_RULES.has(rule)) problems.push(`unexpected dead letter: ${rule}`);
  problems.push(...im.violations);

  const plain = (m: Map<string, Map<string, string>>) =>
    Object.fromEntries(
      [...m.keys()]
        .sort()
        .map((account) => [
          account,
          Object.fromEntries([...(m.get(account) ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
        ]),
    );
  const sortedTags = Object.fromEntries(
    [...expectedTags.keys()].sort().map((account) => [account, [...(expectedTags.get(account) ?? [])].sort()]),
  );
  return {
    actual: { attrs: im.snapshot(), tags: im.tagSnapshot() },
    expected: { attrs: plain(expected), tags: sortedTags },
    problems,
  };
}

describe('ordering: IM ends with the last accepted value', () => {
  it(
    'holds under random batches, faults, redeliveries, deadlines, crashes and early writes',
    { timeout: 60_000 },
    async () => {
      // Prepare
      const property = fc.asyncProperty(scenarioArb, async (scenario) => {
        // Act
        const result = await simulate(scenario);

        // Assess
        expect(result.problems).toEqual([]);
        expect(result.actual).toEqual(result.expected);
      });

      // Act & Assess
      await fc.assert(property, { seed: SEED, numRuns: RUNS });
      // The runs did reach what the promise is about.
      expect(coverage.sameLaneBatches).toBeGreaterThan(50);
      expect(coverage.failedRecords).toBeGreaterThan(50);
      expect(coverage.crashes).toBeGreaterThan(5);
      expect(coverage.concurrentBatches).toBeGreaterThan(5);
      expect(coverage.lateEarlyWrites).toBeGreaterThan(5);
      expect(coverage.intakeRecords).toBeGreaterThan(50);
      expect(coverage.refusedAccepts).toBeGreaterThan(5);
      expect(coverage.lateIntakes).toBeGreaterThan(20);
      expect(coverage.gatherRounds).toBeGreaterThan(15);
      expect(coverage.undeleted).toBeGreaterThan(8);
      expect(coverage.tagCalls).toBeGreaterThan(200);
      expect(coverage.failedTagCalls).toBeGreaterThan(20);
    },
  );

  it.each<Variant>(['reversed-records', 'ack-everything'])(
    'catches a deliberately broken worker (%s) with the same oracle',
    { timeout: 60_000 },
    async (variant) => {
      // Prepare
      let caught: RunResult | undefined;
      const property = fc.asyncProperty(scenarioArb, async (scenario) => {
        // Act
        const result = await simulate(scenario, variant);
        const holds = isDeepStrictEqual(result.actual, result.expected);
        if (!holds) caught = result;
        return holds;
      });

      // Act
      const details = await fc.check(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });

      // Assess
      expect(details.failed).toBe(true);
      expect(caught).toBeDefined();
      expect(caught?.actual).not.toEqual(caught?.expected);
    },
  );

  // Overlapping webhooks are concurrent updates (the second was received before the first was answered):
  // the promise lets them land in either order. The early write is not ordered with the lane, so here the
  // older request's early write can land last. What must hold: IM ends with one of the two values, and the
  // next update sent after both answers wins.
  it('lets overlapping webhooks land in either order, and a later webhook still wins', async () => {
    // Prepare
    const clock = new FakeClock();
    const im = new FakeIm();
    const early = new ParkingWriter(im);
    const lanes = new FakeLanes({ now: clock.now });
    const attrNames = new FixedNames(NAMES);
    const apiDeps: AcceptWebhookDeps = { writer: early, attrNames, lanes, laneCount: LANE_COUNT, inlineChunks: 1 };
    const laneDeps: LaneBatchDeps = {
      writer: im,
      attrNames,
      deadLetters: new FakeDeadLetters(),
      redelivery: lanes.queue.redelivery,
      outageToleranceMs: 1e12,
      retryMaxSeconds: 8,
      now: clock.now,
    };
    const deadlineMs = clock.now() + 5_000;

    // Act: webhook 1 is in its lane, its early write on the way; webhook 2 (same user) is accepted and
    // applied by the worker; then webhook 1's early write lands.
    const first = acceptWebhook(apiDeps, {
      requestId: 'r1',
      key: 'hook-1',
      body: { UserAttrs: [{ To_Account: 'acc-1', Attrs: { city: 'old' } }] },
      deadlineMs,
    });
    await flush();
    const second = acceptWebhook(
      { ...apiDeps, inlineChunks: 0 },
      {
        requestId: 'r2',
        key: 'hook-2',
        body: { UserAttrs: [{ To_Account: 'acc-1', Attrs: { city: 'new' } }] },
        deadlineMs,
      },
    );
    await second;
    const batch = lanes.queue.receive();
    lanes.queue.settle(batch, (await processLaneBatch(laneDeps, batch, deadlineMs)).failedIds);
    early.releaseAll();
    await first;
    const afterOverlap = im.attrsOf('acc-1');
    await acceptWebhook(
      { ...apiDeps, writer: im },
      {
        requestId: 'r3',
        key: 'hook-3',
        body: { UserAttrs: [{ To_Account: 'acc-1', Attrs: { city: 'latest' } }] },
        deadlineMs,
      },
    );
    for (let batch = lanes.queue.receive(); batch.length > 0; batch = lanes.queue.receive()) {
      lanes.queue.settle(batch, (await processLaneBatch(laneDeps, batch, deadlineMs)).failedIds);
    }

    // Assess
    expect([{ city: 'old' }, { city: 'new' }]).toContainEqual(afterOverlap);
    expect(lanes.queue.size).toBe(0);
    expect(im.attrsOf('acc-1')).toEqual({ city: 'latest' });
  });
});
