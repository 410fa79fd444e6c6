import { describe, expect, it } from 'vitest';
import { planLaneMessages } from '../../../lib/core/lanes/lane-plan.ts';
import type { UserUpdate } from '../../../lib/core/rules/types.ts';
import { processLaneBatch, type LaneBatchDeps } from '../../../lib/core/usecases/process-lane-batch.ts';
import type { DeadLetter, QueueRecord } from '../../../lib/core/ports.ts';
import { LearnedAttrNames } from '../../../lib/attr-names/registered-names.ts';
import { ATTR_NAMES, makeUsers } from '../../helpers/factories.ts';
import {
  FakeClock,
  FakeDeadLetters,
  FakeIm,
  FakeLanes,
  FakeRedelivery,
  FixedNames,
  queueRecord,
} from '../../helpers/fakes.ts';

const TOLERANCE_MS = 15 * 60_000;

function setup(options: { retryMaxSeconds?: number; names?: readonly string[] } = {}) {
  const clock = new FakeClock();
  const im = new FakeIm();
  const deadLetters = new FakeDeadLetters();
  const redelivery = new FakeRedelivery();
  const deps: LaneBatchDeps = {
    writer: im,
    attrNames: new FixedNames(options.names ?? ATTR_NAMES),
    deadLetters,
    redelivery,
    outageToleranceMs: TOLERANCE_MS,
    retryMaxSeconds: options.retryMaxSeconds ?? 60,
    now: clock.now,
  };
  const record = (
    group: string,
    users: readonly UserUpdate[],
    extra: { id?: string; receiveCount?: number; firstReceivedAt?: number } = {},
  ): QueueRecord => queueRecord({ group, users, firstReceivedAt: clock.now(), ...extra });
  const run = (records: readonly QueueRecord[]) => processLaneBatch(deps, records, clock.now() + 10_000);
  return { clock, im, deadLetters, redelivery, deps, record, run };
}

const entriesOf = (letter: DeadLetter | undefined): readonly unknown[] | undefined =>
  letter !== undefined && 'entries' in letter ? letter.entries : undefined;
const rawOf = (letter: DeadLetter | undefined): string | undefined =>
  letter !== undefined && 'raw' in letter ? letter.raw : undefined;

describe('processLaneBatch', () => {
  describe('merging', () => {
    it('merges two records of one lane into one call, the later value winning', async () => {
      // Prepare
      const { im, record, run } = setup();
      const first = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'Paris', tier: 'gold' } }]);
      const second = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'Lyon' } }]);

      // Act
      const outcome = await run([first, second]);

      // Assess
      expect(im.calls).toHaveLength(1);
      expect(im.calls[0]?.users).toEqual([{ To_Account: 'u-1', Attrs: { city: 'Lyon', tier: 'gold' } }]);
      expect(im.attrsOf('u-1')).toEqual({ city: 'Lyon', tier: 'gold' });
      expect(outcome).toMatchObject({ failedIds: [], received: 2, applied: 1, calls: 1, deadLettered: 0 });
    });

    it('never sends more than 100 users in one call, sets and removes apart', async () => {
      // Prepare: 12 records of 25 users across 4 lanes, each user with a value to set and a name to remove.
      const { im, record, run } = setup();
      const records = Array.from({ length: 12 }, (_, i) =>
        record(
          `lane-${i % 4}`,
          makeUsers(25, `r${i}`).map((u) => ({ To_Account: u.To_Account, Attrs: { ...u.Attrs, lang: null } })),
        ),
      );

      // Act
      const outcome = await run(records);

      // Assess
      expect(im.violations).toEqual([]);
      expect(Math.max(...im.callSizes())).toBeLessThanOrEqual(100);
      expect(im.calls.filter((c) => c.kind === 'set').map((c) => c.users.length)).toEqual([100, 100, 100]);
      expect(im.calls.filter((c) => c.kind === 'remove').map((c) => c.users.length)).toEqual([100, 100, 100]);
      expect(outcome).toMatchObject({ failedIds: [], applied: 300, calls: 6 });
    });

    it('keeps a removed attribute removed when set and removed in one batch', async () => {
      // Prepare
      const { im, record, run } = setup();
      im.seed('u-1', { city: 'Old', tier: 'silver' }).seed('u-2', { city: 'Old' });
      const records = [
        record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'Paris' } }]),
        record('lane-0', [{ To_Account: 'u-1', Attrs: { city: null } }]),
        record('lane-1', [{ To_Account: 'u-2', Attrs: { city: null } }]),
        record('lane-1', [{ To_Account: 'u-2', Attrs: { city: 'Rome' } }]),
      ];

      // Act
      const outcome = await run(records);

      // Assess: u-1's city is removed (no set of Paris), u-2's removal is overtaken by Rome.
      expect(im.attrsOf('u-1')).toEqual({ tier: 'silver' });
      expect(im.attrsOf('u-2')).toEqual({ city: 'Rome' });
      expect(im.calls.map((c) => ({ kind: c.kind, users: c.users }))).toEqual([
        { kind: 'set', users: [{ To_Account: 'u-2', Attrs: { city: 'Rome' } }] },
        { kind: 'remove', users: [{ To_Account: 'u-1', Attrs: ['city'] }] },
      ]);
      expect(outcome.failedIds).toEqual([]);
    });
  });

  describe('failures', () => {
    it('fails a record on a transient error with the later records of its lane, not other lanes', async () => {
      // Prepare
      const { im, redelivery, record, run } = setup();
      const a1 = record('lane-a', [{ To_Account: 'a-1', Attrs: { city: 'x' } }]);
      const a2 = record('lane-a', [{ To_Account: 'a-2', Attrs: { city: 'x' } }]);
      const a3 = record('lane-a', [{ To_Account: 'a-3', Attrs: { city: 'x' } }]);
      const b1 = record('lane-b', [{ To_Account: 'b-1', Attrs: { city: 'x' } }]);
      const b2 = record('lane-b', [{ To_Account: 'b-2', Attrs: { city: 'x' } }]);
      im.failWhen(() => ({ kind: 'users', errorCode: 91000, accounts: ['a-2'] }));

      // Act
      const outcome = await run([a1, b1, a2, b2, a3]);

      // Assess
      expect(outcome.failedIds).toEqual([a2.id, a3.id]);
      expect(redelivery.calls).toEqual([{ ids: [a2.id, a3.id], delaySeconds: 1 }]);
      expect(im.snapshot()).toEqual({
        'a-1': { city: 'x' },
        'a-3': { city: 'x' },
        'b-1': { city: 'x' },
        'b-2': { city: 'x' },
      });
      expect(outcome.applied).toBe(4);
    });

    it('fails every record whose values were in a call that failed as a whole', async () => {
      // Prepare
      const { im, record, run } = setup();
      const a1 = record('lane-a', [{ To_Account: 'a-1', Attrs: { city: 'x' } }]);
      const b1 = record('lane-b', [{ To_Account: 'b-1', Attrs: { lang: null } }]);
      im.plan({ kind: 'error', errorCode: 91000 });

      // Act
      const outcome = await run([a1, b1]);

      // Assess: the set call failed, the remove call went through.
      expect(outcome.failedIds).toEqual([a1.id]);
      expect(im.calls.map((c) => c.kind)).toEqual(['set', 'remove']);
    });

    it('fails a record whose earlier value was overtaken only when its own last value fails', async () => {
      // Prepare: r1's city is overtaken by r2 in the batch; r1 also writes tier, which fails.
      const { im, record, run } = setup();
      const r1 = record('lane-0', [
        { To_Account: 'u-1', Attrs: { city: 'A' } },
        { To_Account: 'u-2', Attrs: { tier: 't' } },
      ]);
      const r2 = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'B' } }]);
      im.failWhen(() => ({ kind: 'users', errorCode: 91000, accounts: ['u-2'] }));

      // Act
      const outcome = await run([r1, r2]);

      // Assess: r1 blocks its lane, so r2 waits too, although its own value was applied.
      expect(outcome.failedIds).toEqual([r1.id, r2.id]);
      expect(im.attrsOf('u-1')).toEqual({ city: 'B' });
    });

    it.each([
      { receiveCount: 1, delay: 1 },
      { receiveCount: 2, delay: 2 },
      { receiveCount: 3, delay: 4 },
      { receiveCount: 5, delay: 16 },
      { receiveCount: 6, delay: 20 },
      { receiveCount: 40, delay: 20 },
    ])('backs off $delay s on the $receiveCount. receive (capped at 20 s)', async ({ receiveCount, delay }) => {
      // Prepare
      const { im, redelivery, record, run, deps } = setup({ retryMaxSeconds: 20 });
      const failing = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }], { receiveCount });
      im.failWhen(() => ({ kind: 'error', errorCode: 91000 }));

      // Act
      const outcome = await run([failing]);

      // Assess
      expect(deps.retryMaxSeconds).toBe(20);
      expect(outcome.failedIds).toEqual([failing.id]);
      expect(redelivery.delayOf(failing.id)).toBe(delay);
    });

    it('gives each failing lane the backoff of its own first failing record', async () => {
      // Prepare
      const { im, redelivery, record, run } = setup();
      const young = record('lane-a', [{ To_Account: 'a-1', Attrs: { city: 'x' } }], { receiveCount: 1 });
      const old = record('lane-b', [{ To_Account: 'b-1', Attrs: { city: 'x' } }], { receiveCount: 4 });
      const behindOld = record('lane-b', [{ To_Account: 'b-2', Attrs: { city: 'x' } }], { receiveCount: 1 });
      im.failWhen(() => ({ kind: 'error', errorCode: 60007 }));

      // Act
      await run([young, old, behindOld]);

      // Assess
      expect(redelivery.delayOf(young.id)).toBe(1);
      expect(redelivery.delayOf(old.id)).toBe(8);
      expect(redelivery.delayOf(behindOld.id)).toBe(8);
    });

    it('dead-letters a record failing past the outage tolerance, and its lane moves on', async () => {
      // Prepare
      const { clock, im, deadLetters, redelivery, record, run } = setup();
      const aged = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }], {
        receiveCount: 14,
        firstReceivedAt: clock.now() - TOLERANCE_MS - 1,
      });
      const next = record('lane-0', [{ To_Account: 'u-2', Attrs: { city: 'y' } }]);
      im.failWhen(() => ({ kind: 'users', errorCode: 91000, accounts: ['u-1'] }));

      // Act
      const outcome = await run([aged, next]);

      // Assess
      expect(outcome.failedIds).toEqual([]);
      expect(redelivery.calls).toEqual([]);
      expect(deadLetters.letters).toHaveLength(1);
      expect(rawOf(deadLetters.letters[0])).toBe(aged.body);
      expect(deadLetters.letters[0]?.why).toMatchObject({
        rule: 'outage-tolerance-exceeded',
        errorCode: 91000,
        records: [aged.id],
        requestId: aged.requestId,
      });
      expect(deadLetters.letters[0]?.why.reason).toContain('14 deliveries');
      expect(im.attrsOf('u-2')).toEqual({ city: 'y' });
      expect(outcome.deadLettered).toBe(1);
    });

    it('dead-letters a record of a lane stuck on its own (lane-stuck) past stuckLaneToleranceMs, but not during an outage', async () => {
      // Prepare: u-stuck fails transiently every time; its record has failed for 6 minutes (the outage tolerance is 15)
      const { clock, im, deadLetters, deps, record } = setup();
      const stuckDeps = { ...deps, stuckLaneToleranceMs: 5 * 60_000 };
      const stuck = record('lane-0', [{ To_Account: 'u-stuck', Attrs: { city: 'A' } }], {
        firstReceivedAt: clock.now() - 6 * 60_000,
        receiveCount: 40,
      });
      const healthy = record('lane-1', [{ To_Account: 'u-ok', Attrs: { city: 'B' } }]);
      im.failWhen((call) =>
        call.accounts.includes('u-stuck') ? { kind: 'users', errorCode: 91000, accounts: ['u-stuck'] } : undefined,
      );

      // Act
      const alone = await processLaneBatch(stuckDeps, [stuck], clock.now() + 10_000);
      const withOthers = await processLaneBatch(
        stuckDeps,
        [{ ...stuck, receiveCount: 41 }, healthy],
        clock.now() + 10_000,
      );

      // Assess: alone, nothing is applied (it may be an outage): retried; beside an applied lane: dead-lettered
      expect(alone.failedIds).toEqual([stuck.id]);
      expect(withOthers.failedIds).toEqual([]);
      expect(deadLetters.rules()).toEqual(['lane-stuck']);
      expect(deadLetters.letters[0]?.why.reason).toContain('while other lanes were applied');
      expect(im.attrsOf('u-ok')).toEqual({ city: 'B' });
    });

    it('keeps retrying a record failing exactly as long as the tolerance', async () => {
      // Prepare
      const { clock, im, deadLetters, record, run } = setup();
      const edge = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }], {
        receiveCount: 9,
        firstReceivedAt: clock.now() - TOLERANCE_MS,
      });
      im.failWhen(() => ({ kind: 'error', errorCode: 91000 }));

      // Act
      const outcome = await run([edge]);

      // Assess
      expect(outcome.failedIds).toEqual([edge.id]);
      expect(deadLetters.letters).toEqual([]);
    });

    it('keeps an aged record and its lane for the next delivery when the dead-letter queue fails', async () => {
      // Prepare
      const { clock, im, deadLetters, record, run } = setup();
      const aged = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }], {
        receiveCount: 14,
        firstReceivedAt: clock.now() - TOLERANCE_MS - 1,
      });
      const next = record('lane-0', [{ To_Account: 'u-2', Attrs: { city: 'y' } }]);
      im.failWhen((call) =>
        call.accounts.includes('u-1') ? { kind: 'users', errorCode: 91000, accounts: ['u-1'] } : undefined,
      );
      deadLetters.failAlways();

      // Act
      const outcome = await run([aged, next]);

      // Assess
      expect(outcome.failedIds).toEqual([aged.id, next.id]);
      expect(outcome.deadLettered).toBe(0);
    });

    it('pauses the lanes on a configuration error (90009: not an admin), as in an outage: nothing is dead-lettered', async () => {
      // Prepare: two lanes, 250 users; IM refuses the gateway's admin account
      const { im, deadLetters, redelivery, record, run } = setup();
      const r1 = record('lane-0', makeUsers(150, 'a'), { receiveCount: 3 });
      const r2 = record('lane-1', makeUsers(100, 'b'));
      im.failWhen(() => ({ kind: 'error', errorCode: 90009 }));

      // Act
      const outcome = await run([r1, r2]);

      // Assess
      expect(deadLetters.letters).toEqual([]);
      expect(outcome.failedIds.slice().sort()).toEqual([r1.id, r2.id].sort());
      expect(redelivery.delayOf(r1.id)).toBe(4);
      expect(outcome).toMatchObject({ applied: 0, deadLettered: 0 });
    });

    it('dead-letters a user IM refuses for good, naming its records and attributes, and acknowledges the records', async () => {
      // Prepare
      const { im, deadLetters, record, run } = setup();
      const r1 = record('lane-0', [{ To_Account: 'ghost', Attrs: { city: 'A' } }]);
      const r2 = record('lane-0', [
        { To_Account: 'ghost', Attrs: { tier: 'B' } },
        { To_Account: 'real', Attrs: { city: 'C' } },
      ]);
      im.failWhen(() => ({ kind: 'users', errorCode: 70107, accounts: ['ghost'] }));

      // Act
      const outcome = await run([r1, r2]);

      // Assess
      expect(outcome.failedIds).toEqual([]);
      expect(deadLetters.letters).toHaveLength(1);
      const letter = deadLetters.letters[0];
      expect(entriesOf(letter)).toEqual([{ To_Account: 'ghost', Attrs: { city: 'A', tier: 'B' } }]);
      expect(letter?.why).toMatchObject({
        rule: 'im-error-70107',
        errorCode: 70107,
        records: [r1.id, r2.id],
        requestId: r1.requestId,
      });
      expect(letter?.why.reason).toContain('city, tier');
      expect(letter?.why.reason).toContain(r1.id);
      expect(im.snapshot()).toEqual({ real: { city: 'C' } });
      expect(outcome).toMatchObject({ applied: 1, deadLettered: 1 });
    });

    it('dead-letters a removal IM refuses for good in the gateway shape (null values)', async () => {
      // Prepare
      const { im, deadLetters, record, run } = setup();
      const r1 = record('lane-0', [{ To_Account: 'ghost', Attrs: { lang: null } }]);
      im.failWhen(() => ({ kind: 'error', errorCode: 70107 }));

      // Act
      const outcome = await run([r1]);

      // Assess
      expect(outcome.failedIds).toEqual([]);
      expect(entriesOf(deadLetters.letters[0])).toEqual([{ To_Account: 'ghost', Attrs: { lang: null } }]);
      expect(deadLetters.rules()).toEqual(['im-error-70107']);
    });

    it('dead-letters a body that is not JSON as it came, and the lane moves on', async () => {
      // Prepare
      const { im, deadLetters, record, run } = setup();
      const broken = queueRecord({ group: 'lane-0', body: '{"UserAttrs": [' });
      const next = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }]);

      // Act
      const outcome = await run([broken, next]);

      // Assess
      expect(outcome.failedIds).toEqual([]);
      expect(rawOf(deadLetters.letters[0])).toBe('{"UserAttrs": [');
      expect(deadLetters.letters[0]?.why).toMatchObject({ rule: 'body-must-be-json', records: [broken.id] });
      expect(im.attrsOf('u-1')).toEqual({ city: 'x' });
    });

    it('dead-letters the entries the rules refuse and applies the rest of the record', async () => {
      // Prepare
      const { im, deadLetters, run } = setup();
      const mixed = queueRecord({
        group: 'lane-0',
        users: [
          { To_Account: 'u-1', Attrs: { city: 'x' } },
          { To_Account: 'u-2', Attrs: { planet: 'Mars' } },
        ],
      });

      // Act
      const outcome = await run([mixed]);

      // Assess
      expect(outcome.failedIds).toEqual([]);
      expect(deadLetters.rules()).toEqual(['attr-name-unregistered']);
      expect(entriesOf(deadLetters.letters[0])).toEqual([{ To_Account: 'u-2', Attrs: { planet: 'Mars' } }]);
      expect(im.snapshot()).toEqual({ 'u-1': { city: 'x' } });
      expect(outcome).toMatchObject({ received: 2, deadLettered: 1, applied: 1 });
    });

    it('keeps a record for a retry when the dead-letter queue fails', async () => {
      // Prepare
      const { im, deadLetters, redelivery, record, run } = setup();
      const refused = record('lane-0', [{ To_Account: 'ghost', Attrs: { city: 'A' } }]);
      const later = record('lane-0', [{ To_Account: 'real', Attrs: { city: 'B' } }]);
      const broken = queueRecord({ group: 'lane-1', body: 'not json' });
      const other = record('lane-2', [{ To_Account: 'other', Attrs: { city: 'C' } }]);
      im.failWhen(() => ({ kind: 'users', errorCode: 70107, accounts: ['ghost'] }));
      deadLetters.failNext();

      // Act
      const outcome = await run([refused, broken, later, other]);

      // Assess: no letter was kept, so nothing of the refused or unreadable records may be acknowledged.
      expect(deadLetters.letters).toEqual([]);
      expect(outcome.failedIds).toEqual([refused.id, later.id, broken.id]);
      expect(redelivery.delayOf(refused.id)).toBe(1);
      expect(im.attrsOf('other')).toEqual({ city: 'C' });
    });

    it('retries at once (delay 0) when the deadline came before any attempt', async () => {
      // Prepare
      const { im, redelivery, record, run } = setup();
      const first = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }], { receiveCount: 3 });
      const second = record('lane-0', [{ To_Account: 'u-2', Attrs: { city: 'y' } }], { receiveCount: 3 });
      im.failWhen(() => ({ kind: 'deadline', attempts: 0 }));

      // Act
      const outcome = await run([first, second]);

      // Assess
      expect(outcome.failedIds).toEqual([first.id, second.id]);
      expect(redelivery.calls).toEqual([{ ids: [first.id, second.id], delaySeconds: 0 }]);
      expect(im.calls[0]?.deadlineMs).toBeDefined();
    });

    it('backs off as usual when the deadline came after an attempt had failed', async () => {
      // Prepare
      const { im, redelivery, record, run } = setup();
      const first = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }], { receiveCount: 3 });
      im.failWhen(() => ({ kind: 'deadline', attempts: 1 }));

      // Act
      await run([first]);

      // Assess
      expect(redelivery.delayOf(first.id)).toBe(4);
    });

    it('backs off (not 0) after an error that is not an answer from IM', async () => {
      // Prepare
      const { im, redelivery, record, run } = setup();
      const first = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }], { receiveCount: 2 });
      im.failWhen(() => ({ kind: 'throw', error: new Error('credentials unreadable') }));

      // Act
      const outcome = await run([first]);

      // Assess
      expect(outcome.failedIds).toEqual([first.id]);
      expect(redelivery.delayOf(first.id)).toBe(2);
    });

    it('reports a backoff that could not be set, and still fails the records', async () => {
      // Prepare
      const { im, redelivery, record, run } = setup();
      const first = record('lane-0', [{ To_Account: 'u-1', Attrs: { city: 'x' } }]);
      im.failWhen(() => ({ kind: 'error', errorCode: 91000 }));
      redelivery.failNext();

      // Act
      const outcome = await run([first]);

      // Assess
      expect(outcome.failedIds).toEqual([first.id]);
      expect(outcome.redeliveryError).toBeInstanceOf(Error);
    });
  });

  describe('driven like the FIFO event source mapping', () => {
    it('brings a failed record back after its backoff, ahead of the later records of its lane', async () => {
      // Prepare: two messages of one lane, the first failing once.
      const { clock, im, deadLetters, deps } = setup();
      const lanes = new FakeLanes({ now: clock.now });
      const users = [{ To_Account: 'u-1', Attrs: { city: 'A' } }];
      await lanes.enqueue(planLaneMessages(users, 1, 'k1'), { requestId: 'r1', origin: 'api' });
      await lanes.enqueue(planLaneMessages([{ To_Account: 'u-1', Attrs: { city: 'B' } }], 1, 'k2'), {
        requestId: 'r2',
        origin: 'api',
      });
      const worker = { ...deps, redelivery: lanes.queue.redelivery };
      im.plan({ kind: 'error', errorCode: 91000 });

      // Act: one record per batch, like a batch size of 1.
      const first = lanes.queue.receive({ max: 1 });
      const firstOutcome = await processLaneBatch(worker, first, clock.now() + 10_000);
      lanes.queue.settle(first, firstOutcome.failedIds);
      const whileHidden = lanes.queue.receive();
      clock.advance(1_000);
      const again = lanes.queue.receive({ max: 1 });
      lanes.queue.settle(again, (await processLaneBatch(worker, again, clock.now() + 10_000)).failedIds);
      const last = lanes.queue.receive();
      lanes.queue.settle(last, (await processLaneBatch(worker, last, clock.now() + 10_000)).failedIds);

      // Assess
      expect(firstOutcome.failedIds).toEqual([first[0]?.id]);
      expect(whileHidden).toEqual([]);
      expect(again.map((r) => [r.id, r.receiveCount])).toEqual([[first[0]?.id, 2]]);
      expect(again[0]?.firstReceivedAt).toBe(first[0]?.firstReceivedAt);
      expect(last.map((r) => r.requestId)).toEqual(['r2']);
      expect(lanes.queue.size).toBe(0);
      expect(im.attrsOf('u-1')).toEqual({ city: 'B' });
      expect(deadLetters.letters).toEqual([]);
    });
  });

  describe('fast start', () => {
    it('starts the full calls of the first record alone in its lane before the rest, with no more calls than merging all', async () => {
      // Prepare: lane-1 has two records naming the same users (merged); lane-2 one record of 250 users; lane-3 50
      const { im, record, run } = setup();
      const shared = makeUsers(60, 'm');
      const records = [
        record('lane-1', shared),
        record('lane-2', makeUsers(250, 'h')),
        record(
          'lane-1',
          shared.map((u) => ({ To_Account: u.To_Account, Attrs: { city: 'later' } })),
        ),
        record('lane-3', makeUsers(50, 'c')),
      ];

      // Act
      const outcome = await run(records);

      // Assess: 360 distinct users make 4 calls either way; the first two are lane-2's, started early
      expect(im.calls.slice(0, 2).map((c) => c.users.length)).toEqual([100, 100]);
      expect(im.calls.slice(0, 2).every((c) => c.accounts.every((a) => a.startsWith('h-')))).toBe(true);
      expect(im.callSizes().reduce((a, b) => a + b, 0)).toBe(360);
      expect(outcome).toMatchObject({ failedIds: [], applied: 360, calls: 4 });
      expect(im.attrsOf('m-0')).toEqual({ city: 'later', tier: 't0' });
      expect(im.attrsOf('h-249')).toEqual(makeUsers(250, 'h')[249]?.Attrs);
    });

    it('fails the early record alone when its early call fails, and acknowledges the other lanes', async () => {
      // Prepare: the first call (the early one) fails for now
      const { im, record, run } = setup();
      im.plan({ kind: 'error', errorCode: 91000 });
      const other = record('lane-1', makeUsers(10, 'o'));
      const early = record('lane-2', makeUsers(100, 'h'));
      const last = record('lane-4', makeUsers(10, 's'));

      // Act
      const outcome = await run([other, early, last]);

      // Assess: lane-1's record is alone too but has no full call, so lane-2's starts first
      expect(im.calls[0]?.accounts.every((a) => a.startsWith('h-'))).toBe(true);
      expect(outcome.failedIds).toEqual([early.id]);
      expect(im.attrsOf('o-0')).toEqual(makeUsers(1, 'o')[0]?.Attrs);
      expect(im.attrsOf('s-9')).toEqual(makeUsers(10, 's')[9]?.Attrs);
      expect(im.attrsOf('h-0')).toBeUndefined();
    });

    it('keeps batch order for a user found in the early record’s lane and in another (while laneCount changes)', async () => {
      // Prepare: u-x is in an earlier record of lane-1 (two records: not alone), in lane-2's early record, and in
      // a later record of lane-1; u-y only in the earlier one and the early one
      const { im, record, run } = setup();
      const early = [
        { To_Account: 'u-x', Attrs: { city: 'middle' } },
        { To_Account: 'u-y', Attrs: { city: 'newer' } },
        ...makeUsers(98, 'h'),
      ];
      const records = [
        record('lane-1', [
          { To_Account: 'u-x', Attrs: { city: 'oldest' } },
          { To_Account: 'u-y', Attrs: { city: 'older' } },
        ]),
        record('lane-2', early),
        record('lane-1', [{ To_Account: 'u-x', Attrs: { city: 'last' } }]),
      ];

      // Act
      const outcome = await run(records);

      // Assess
      expect(im.calls[0]?.users).toHaveLength(100);
      expect(im.attrsOf('u-x')).toEqual({ city: 'last' });
      expect(im.attrsOf('u-y')).toEqual({ city: 'newer' });
      expect(outcome.failedIds).toEqual([]);
    });
  });

  describe('a name fixed in IM, then replayed at once', () => {
    /** Names learned from a mutable "IM" list, on the test's clock (the real cache: 300 s TTL, reads ≥ 10 s apart). */
    function learned(clock: FakeClock, inIm: string[]) {
      let fetches = 0;
      const names = new LearnedAttrNames({ fetch: async () => (fetches++, [...inIm]), now: clock.now });
      return { names, fetches: () => fetches };
    }

    it('reads the names again before dead-lettering for an unregistered name, and retries the record at once when they changed', async () => {
      // Prepare: the copy learned the names before `plan` was registered
      const { clock, deadLetters, redelivery, deps, record } = setup();
      const inIm = ['city'];
      const { names, fetches } = learned(clock, inIm);
      await names.current();
      clock.advance(30_000);
      inIm.push('plan');
      const replayed = record('lane-0', [{ To_Account: 'u-1', Attrs: { plan: 'pro', city: 'Oslo' } }]);

      // Act
      const first = await processLaneBatch({ ...deps, attrNames: names }, [replayed], clock.now() + 10_000);
      const again = await processLaneBatch(
        { ...deps, attrNames: names },
        [{ ...replayed, receiveCount: 2 }],
        clock.now() + 10_000,
      );

      // Assess
      expect(deadLetters.letters).toEqual([]);
      expect(first.failedIds).toEqual([replayed.id]);
      expect(redelivery.delayOf(replayed.id)).toBe(0);
      expect(again).toMatchObject({ failedIds: [], applied: 1, deadLettered: 0 });
      expect(fetches()).toBe(2);
    });

    it('holds a record that arrived after the last read until the names may be read again, then dead-letters a name still unknown', async () => {
      // Prepare: the names were read 2 s ago (reads are ≥ 10 s apart), the record arrived after that
      const { clock, deadLetters, redelivery, deps, record } = setup();
      const { names } = learned(clock, ['city']);
      await names.refresh();
      clock.advance(2_000);
      const late = record('lane-0', [{ To_Account: 'u-1', Attrs: { plan: 'pro' } }]);

      // Act
      const held = await processLaneBatch({ ...deps, attrNames: names }, [late], clock.now() + 10_000);
      clock.advance(8_000);
      const decided = await processLaneBatch(
        { ...deps, attrNames: names },
        [{ ...late, receiveCount: 2 }],
        clock.now() + 10_000,
      );

      // Assess
      expect(held.failedIds).toEqual([late.id]);
      expect(redelivery.delayOf(late.id)).toBe(8);
      expect(decided.failedIds).toEqual([]);
      expect(deadLetters.rules()).toEqual(['attr-name-unregistered']);
    });

    it('retries at once a call IM refused with 90033 when the names read again now hold every name of it', async () => {
      // Prepare: the copy does not know the names (IM enforces them); IM refused `plan` moments before it was registered
      const { clock, im, deadLetters, redelivery, deps, record } = setup();
      const inIm = ['city', 'plan'];
      const { names } = learned(clock, inIm);
      const r1 = record('lane-0', [{ To_Account: 'u-1', Attrs: { plan: 'pro' } }]);
      im.failWhen((call) => (call.index === 1 ? { kind: 'error', errorCode: 90033 } : undefined));

      // Act
      const outcome = await processLaneBatch(
        {
          ...deps,
          attrNames: {
            current: async () => undefined,
            known: () => true,
            refresh: () => names.refresh(),
            reads: () => names.reads(),
          },
        },
        [r1],
        clock.now() + 10_000,
      );

      // Assess
      expect(deadLetters.letters).toEqual([]);
      expect(outcome.failedIds).toEqual([r1.id]);
      expect(redelivery.delayOf(r1.id)).toBe(0);
    });
  });
});
