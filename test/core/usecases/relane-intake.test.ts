import { describe, expect, it } from 'vitest';
import { laneOf } from '../../../lib/core/lanes/lane-of.ts';
import { relaneIntake, type RelaneDeps } from '../../../lib/core/usecases/relane-intake.ts';
import type { DeadLetter, QueueRecord } from '../../../lib/core/ports.ts';
import { ATTR_NAMES, makeUsers } from '../../helpers/factories.ts';
import {
  FakeClock,
  FakeDeadLetters,
  FakeFifoQueue,
  FakeLanes,
  FakeRedelivery,
  FixedNames,
  queueRecord,
} from '../../helpers/fakes.ts';

const LANES = 4;
const WINDOW_MS = 120_000;

function setup() {
  const clock = new FakeClock();
  const lanes = new FakeLanes({ now: clock.now });
  const deadLetters = new FakeDeadLetters();
  const redelivery = new FakeRedelivery();
  const deps: RelaneDeps = {
    attrNames: new FixedNames(ATTR_NAMES),
    lanes,
    deadLetters,
    redelivery,
    laneCount: LANES,
    retryWindowMs: WINDOW_MS,
    now: clock.now,
  };
  const record = (
    group: string,
    users: readonly unknown[],
    extra: { id?: string; receiveCount?: number; firstReceivedAt?: number } = {},
  ): QueueRecord =>
    queueRecord({ group, users, firstReceivedAt: clock.now(), requestId: `req-${extra.id ?? group}`, ...extra });
  return { clock, lanes, deadLetters, redelivery, deps, record };
}

const entriesOf = (letter: DeadLetter | undefined): readonly unknown[] | undefined =>
  letter !== undefined && 'entries' in letter ? letter.entries : undefined;

describe('relaneIntake', () => {
  it('moves every valid user of a message into its lane, in order, and acknowledges it', async () => {
    // Prepare
    const { lanes, deps, record } = setup();
    const users = makeUsers(250, 'p');
    const message = record('producer-a', users, { id: 'm1' });

    // Act
    const outcome = await relaneIntake(deps, [message]);

    // Assess
    expect(outcome).toMatchObject({ failedIds: [], received: 250, laned: 250, deadLettered: 0 });
    for (let lane = 0; lane < LANES; lane++)
      expect(lanes.queuedUsers(lane)).toEqual(users.filter((u) => laneOf(u.To_Account, LANES) === lane));
    expect(new Set(lanes.appended.map((a) => a.origin))).toEqual(new Set(['intake']));
    expect(new Set(lanes.appended.map((a) => a.requestId))).toEqual(new Set([message.requestId]));
  });

  it("keeps a producer group's order: a failing message fails with the later ones of its group, other groups go on", async () => {
    // Prepare
    const { lanes, redelivery, deps, record } = setup();
    const m1 = record('producer-a', makeUsers(5, 'm1'), { id: 'm1' });
    const m2 = record('producer-a', makeUsers(5, 'm2'), { id: 'm2' });
    const m3 = record('producer-a', makeUsers(5, 'm3'), { id: 'm3' });
    const n1 = record('producer-b', makeUsers(5, 'n1'), { id: 'n1' });
    const n2 = record('producer-b', makeUsers(5, 'n2'), { id: 'n2' });
    lanes.failWhen((_, meta) => meta.requestId === m2.requestId);

    // Act
    const outcome = await relaneIntake(deps, [m1, n1, m2, n2, m3]);

    // Assess
    expect(outcome.failedIds).toEqual([m2.id, m3.id]);
    expect(redelivery.calls).toEqual([{ ids: [m2.id, m3.id], delaySeconds: 1 }]);
    expect(new Set(lanes.appended.map((a) => a.requestId))).toEqual(
      new Set([m1.requestId, n1.requestId, n2.requestId]),
    );
    // m3 was never offered to the lanes: it must not get ahead of m2.
    expect(lanes.calls.some((c) => c.meta.requestId === m3.requestId)).toBe(false);
    expect(outcome).toMatchObject({ received: 20, laned: 15 });
  });

  it('fails a message whose lanes threw (nothing known) and retries it with growing, short waits', async () => {
    // Prepare
    const { lanes, redelivery, deps, record } = setup();
    const m1 = record('producer-a', makeUsers(3, 'm1'), { id: 'm1', receiveCount: 3 });
    const m9 = record('producer-b', makeUsers(3, 'm9'), { id: 'm9', receiveCount: 9 });
    lanes.throwNext().throwNext();

    // Act
    const outcome = await relaneIntake(deps, [m1, m9]);

    // Assess
    expect(outcome.failedIds.slice().sort()).toEqual([m1.id, m9.id]);
    expect(redelivery.delayOf(m1.id)).toBe(4);
    expect(redelivery.delayOf(m9.id)).toBe(20);
  });

  it('dead-letters the entries the rules refuse, by rule, and lanes the rest', async () => {
    // Prepare
    const { lanes, deadLetters, deps, record } = setup();
    const message = record(
      'producer-a',
      [
        { To_Account: 'ok-1', Attrs: { city: 'x' } },
        { To_Account: 'bad-1', Attrs: { planet: 'Mars' } },
        { To_Account: 'bad-2', Attrs: { city: 'y'.repeat(51) } },
        { To_Account: 'bad-3', Attrs: { planet: 'Venus' } },
      ],
      { id: 'm1' },
    );

    // Act
    const outcome = await relaneIntake(deps, [message]);

    // Assess
    expect(outcome).toMatchObject({ failedIds: [], received: 4, laned: 1, deadLettered: 3 });
    expect(deadLetters.rules()).toEqual(['attr-name-unregistered', 'value-max-50-bytes']);
    expect(entriesOf(deadLetters.letters[0])).toEqual([
      { To_Account: 'bad-1', Attrs: { planet: 'Mars' } },
      { To_Account: 'bad-3', Attrs: { planet: 'Venus' } },
    ]);
    expect(deadLetters.letters[0]?.why).toMatchObject({ requestId: message.requestId, records: [message.id] });
    expect(lanes.appended.flatMap((a) => a.users)).toEqual([{ To_Account: 'ok-1', Attrs: { city: 'x' } }]);
  });

  it('dead-letters a body that is not JSON as it came', async () => {
    // Prepare
    const { deadLetters, deps } = setup();
    const broken = queueRecord({ group: 'producer-a', body: 'UserAttrs=1' });

    // Act
    const outcome = await relaneIntake(deps, [broken]);

    // Assess
    expect(outcome).toMatchObject({ failedIds: [], received: 1, laned: 0, deadLettered: 1 });
    expect(deadLetters.letters).toEqual([
      { raw: 'UserAttrs=1', why: expect.objectContaining({ rule: 'body-must-be-json', records: [broken.id] }) },
    ]);
  });

  it('keeps a message and the rest of its group when its dead letters cannot be written', async () => {
    // Prepare
    const { deadLetters, deps, record } = setup();
    const m1 = record('producer-a', [{ To_Account: 'bad', Attrs: { planet: 'Mars' } }], { id: 'm1' });
    const m2 = record('producer-a', makeUsers(2, 'm2'), { id: 'm2' });
    deadLetters.failNext();

    // Act
    const outcome = await relaneIntake(deps, [m1, m2]);

    // Assess
    expect(outcome.failedIds).toEqual([m1.id, m2.id]);
    expect(deadLetters.letters).toEqual([]);
  });

  it('decides the window before writing: a redelivery past it writes no lane and dead-letters the whole message', async () => {
    // Prepare: an earlier delivery wrote some lanes; SQS's deduplication window may be over, so writing again
    // could append these old values behind newer updates of the same users.
    const { clock, lanes, deadLetters, deps, record } = setup();
    const users = [...makeUsers(40, 'late'), { To_Account: 'bad', Attrs: { planet: 'Mars' } }];
    const late = record('producer-a', users, {
      id: 'late',
      receiveCount: 7,
      firstReceivedAt: clock.now() - WINDOW_MS - 1,
    });

    // Act
    const outcome = await relaneIntake(deps, [late]);

    // Assess
    expect(lanes.calls).toEqual([]);
    expect(outcome).toMatchObject({ failedIds: [], laned: 0, deadLettered: 41 });
    expect(deadLetters.rules()).toEqual(['relane-window-exceeded']);
    expect(deadLetters.letters[0]).toEqual({
      raw: late.body,
      why: expect.objectContaining({ requestId: late.requestId, records: [late.id] }),
    });
  });

  it("writes a message's rule letters once: not on the retries while its lanes fail", async () => {
    // Prepare
    const { lanes, deadLetters, deps, record } = setup();
    const message = record('producer-a', [...makeUsers(3, 'm'), { To_Account: 'bad', Attrs: { planet: 'Mars' } }], {
      id: 'm1',
    });
    lanes.failWhen(() => true);

    // Act: two deliveries fail on their lanes, the third goes through
    await relaneIntake(deps, [message]);
    await relaneIntake(deps, [{ ...message, receiveCount: 2 }]);
    lanes.failWhen(() => false);
    const outcome = await relaneIntake(deps, [{ ...message, receiveCount: 3 }]);

    // Assess
    expect(outcome).toMatchObject({ failedIds: [], laned: 3, deadLettered: 1 });
    expect(deadLetters.letters).toHaveLength(1);
    expect(deadLetters.rules()).toEqual(['attr-name-unregistered']);
  });

  it('keeps retrying inside the retry window', async () => {
    // Prepare
    const { clock, lanes, deadLetters, deps, record } = setup();
    const young = record('producer-a', makeUsers(4), {
      id: 'young',
      receiveCount: 5,
      firstReceivedAt: clock.now() - WINDOW_MS,
    });
    lanes.failWhen(() => true);

    // Act
    const outcome = await relaneIntake(deps, [young]);

    // Assess
    expect(outcome.failedIds).toEqual([young.id]);
    expect(deadLetters.letters).toEqual([]);
  });

  // KNOWN LIB BUG (lib/core/usecases/relane-intake.ts, the window-exceeded branch): `unsent` is emptied once
  // its users are dead-lettered, so `laned` then counts them as laned (all of `messages`) and
  // `deadLettered` leaves them out. Turn into `it` once fixed.
  it('counts the users dead-lettered for the retry window as dead-lettered, not laned', async () => {
    // Prepare
    const { clock, lanes, deps, record } = setup();
    const late = record('producer-a', makeUsers(10, 'late'), {
      id: 'late',
      firstReceivedAt: clock.now() - WINDOW_MS - 1,
    });
    lanes.failWhen(() => true);

    // Act
    const outcome = await relaneIntake(deps, [late]);

    // Assess
    expect(outcome).toMatchObject({ laned: 0, deadLettered: 10 });
  });

  it('adds nothing twice when a message is retried with the same record id', async () => {
    // Prepare: the intake queue delivers a message; lane 1 refuses it the first time.
    const { clock, lanes, deps } = setup();
    const intake = new FakeFifoQueue({ name: 'intake', now: clock.now });
    const worker = { ...deps, redelivery: intake.redelivery };
    const users = makeUsers(12000, 'retry');
    intake.send({ group: 'producer-a', body: JSON.stringify({ UserAttrs: users }), requestId: 'req-retry' });
    lanes.failWhen((m) => m.lane === 1 && m.position === 1);

    // Act
    const first = intake.receive();
    intake.settle(first, (await relaneIntake(worker, first)).failedIds);
    lanes.heal();
    clock.advance(1_000);
    const second = intake.receive();
    const outcome = await relaneIntake(worker, second);
    intake.settle(second, outcome.failedIds);

    // Assess
    expect(second.map((r) => [r.id, r.receiveCount])).toEqual([[first[0]?.id, 2]]);
    expect(outcome.failedIds).toEqual([]);
    expect(intake.size).toBe(0);
    for (let lane = 0; lane < LANES; lane++)
      expect(lanes.queuedUsers(lane)).toEqual(users.filter((u) => laneOf(u.To_Account, LANES) === lane));
    expect(new Set(lanes.appended.map((a) => a.dedupId)).size).toBe(lanes.appended.length);
    expect(lanes.appended.some((a) => a.lane === 1 && a.position === 1)).toBe(true);
  });

  it('adds nothing twice when the lanes threw after writing and the message is retried', async () => {
    // Prepare
    const { lanes, deps, record } = setup();
    const users = makeUsers(50, 'thrown');
    const message = record('producer-a', users, { id: 'thrown' });
    lanes.throwNext(new Error('connection reset'), true);

    // Act
    const first = await relaneIntake(deps, [message]);
    const second = await relaneIntake(deps, [{ ...message, receiveCount: 2 }]);

    // Assess
    expect(first.failedIds).toEqual([message.id]);
    expect(second.failedIds).toEqual([]);
    expect(lanes.appended.flatMap((a) => a.users.map((u) => u.To_Account)).sort()).toEqual(
      users.map((u) => u.To_Account).sort(),
    );
  });
});
