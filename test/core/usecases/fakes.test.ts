/** The fakes the use-case tests stand on: if they were wrong, the ordering property would prove nothing. */
import { describe, expect, it } from 'vitest';
import { ImError } from '../../../lib/im/errors.ts';
import type { LaneMessage } from '../../../lib/core/lanes/lane-plan.ts';
import { makeUsers } from '../../helpers/factories.ts';
import { FakeClock, FakeFifoQueue, FakeIm, FakeLanes, prng } from '../../helpers/fakes.ts';

const meta = { requestId: 'req-1', origin: 'test' };
const laneMessage = (lane: number, position: number, account: string): LaneMessage => ({
  lane,
  position,
  users: [{ To_Account: account, Attrs: { city: account } }],
  dedupId: `d-${lane}-${position}-${account}`,
});

describe('FakeFifoQueue', () => {
  it('never delivers a group with a record in flight, and keeps each group in order', () => {
    // Prepare
    const clock = new FakeClock();
    const queue = new FakeFifoQueue({ now: clock.now });
    for (let i = 0; i < 6; i++) queue.send({ group: `g-${i % 2}`, body: `m${i}` });

    // Act
    const first = queue.receive({ max: 1 });
    const second = queue.receive();
    const third = queue.receive();

    // Assess
    expect(first.map((r) => r.body)).toEqual(['m0']);
    expect(second.map((r) => r.body)).toEqual(['m1', 'm3', 'm5']);
    expect(third).toEqual([]);
  });

  it('keeps group order in random batches', () => {
    // Prepare
    const clock = new FakeClock();
    const queue = new FakeFifoQueue({ now: clock.now });
    for (let i = 0; i < 40; i++) queue.send({ group: `g-${i % 3}`, body: String(i) });
    const rng = prng(7);
    const delivered: string[][] = [[], [], []];

    // Act
    while (queue.size > 0) {
      const batch = queue.receive({ random: rng.int });
      for (const r of batch) delivered[Number(r.group.slice(2))]?.push(r.body);
      queue.ack(batch);
    }

    // Assess
    delivered.forEach((bodies, g) =>
      expect(bodies).toEqual(
        Array.from({ length: 40 }, (_, i) => i)
          .filter((i) => i % 3 === g)
          .map(String),
      ),
    );
  });

  it('hides a failed record for its backoff, then delivers it again first, counting receives', async () => {
    // Prepare
    const clock = new FakeClock();
    const queue = new FakeFifoQueue({ now: clock.now, visibilityTimeoutSeconds: 30 });
    queue.send({ group: 'g', body: 'a' });
    queue.send({ group: 'g', body: 'b' });
    const batch = queue.receive();
    await queue.redelivery.retryLater(batch, 2);

    // Act
    queue.settle(
      batch,
      batch.map((r) => r.id),
    );
    const hidden = queue.receive();
    clock.advance(2_000);
    const again = queue.receive();

    // Assess
    expect(hidden).toEqual([]);
    expect(again.map((r) => [r.body, r.receiveCount, r.firstReceivedAt])).toEqual([
      ['a', 2, batch[0]?.firstReceivedAt],
      ['b', 2, batch[1]?.firstReceivedAt],
    ]);
  });

  it('brings an abandoned batch back after the visibility timeout, and refuses stale receipts', () => {
    // Prepare
    const clock = new FakeClock();
    const queue = new FakeFifoQueue({ now: clock.now, visibilityTimeoutSeconds: 30 });
    queue.send({ group: 'g', body: 'a' });
    const batch = queue.receive();

    // Act
    queue.abandon(batch);
    clock.advance(29_999);
    const early = queue.receive();
    clock.advance(1);
    const late = queue.receive();

    // Assess
    expect(early).toEqual([]);
    expect(late.map((r) => r.receiveCount)).toEqual([2]);
    expect(() => queue.ack(batch)).toThrow(/not current/);
  });

  it('deduplicates ids within the window only', () => {
    // Prepare
    const clock = new FakeClock();
    const queue = new FakeFifoQueue({ now: clock.now, dedupWindowMs: 300_000 });

    // Act
    const sent = [
      queue.send({ group: 'g', body: 'a', dedupId: 'x' }),
      queue.send({ group: 'g', body: 'a', dedupId: 'x' }),
    ];
    clock.advance(300_000);
    sent.push(queue.send({ group: 'g', body: 'a', dedupId: 'x' }));

    // Assess
    expect(sent.map((m) => m !== undefined)).toEqual([true, false, true]);
  });
});

describe('FakeLanes', () => {
  it('stops a lane at its first message that fails, other lanes go on', async () => {
    // Prepare
    const lanes = new FakeLanes();
    lanes.failWhen((m) => m.lane === 0 && m.position === 1);
    const messages = [laneMessage(0, 0, 'a'), laneMessage(0, 1, 'b'), laneMessage(0, 2, 'c'), laneMessage(1, 0, 'd')];

    // Act
    const unsent = await lanes.enqueue(messages, meta);

    // Assess
    expect(unsent.map((m) => m.users[0]?.To_Account)).toEqual(['b', 'c']);
    expect(lanes.queuedUsers(0).map((u) => u.To_Account)).toEqual(['a']);
    expect(lanes.queuedUsers(1).map((u) => u.To_Account)).toEqual(['d']);
  });

  it('ignores a repeated deduplication id', async () => {
    // Prepare
    const lanes = new FakeLanes();
    const messages = [laneMessage(0, 0, 'a')];

    // Act
    await lanes.enqueue(messages, meta);
    await lanes.enqueue(messages, { ...meta, requestId: 'req-2' });

    // Assess
    expect(lanes.appended.map((a) => a.requestId)).toEqual(['req-1']);
    expect(lanes.queue.size).toBe(1);
  });
});

describe('FakeIm', () => {
  it('refuses a call over 100 users and remembers it', async () => {
    // Prepare
    const im = new FakeIm();

    // Act
    const attempt = im.setAttr(makeUsers(101));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RangeError);
    expect(im.violations).toHaveLength(1);
    expect(im.snapshot()).toEqual({});
  });

  it('applies the users not listed in a partial failure, and removes names', async () => {
    // Prepare
    const im = new FakeIm().seed('a', { city: 'x', tier: 't' });
    im.plan({ kind: 'users', errorCode: 91000, accounts: ['b'] });

    // Act
    const outcome = await im.setAttr([
      { To_Account: 'a', Attrs: { city: 'y' } },
      { To_Account: 'b', Attrs: { city: 'y' } },
    ]);
    await im.removeAttr([{ To_Account: 'a', Attrs: ['tier', 'city'] }]);

    // Assess
    expect(outcome.failedUsers).toEqual([{ To_Account: 'b', errorCode: 91000, errorClass: 'transient' }]);
    expect(im.snapshot()).toEqual({});
  });

  it('throws an ImError of the code and class, after applying when told so', async () => {
    // Prepare
    const im = new FakeIm();
    im.plan({ kind: 'error', errorCode: -1, applied: true }, { kind: 'error', errorCode: 70107 });

    // Act
    const first = im.setAttr([{ To_Account: 'a', Attrs: { city: 'y' } }]).catch((e: unknown) => e);
    const second = im.setAttr([{ To_Account: 'b', Attrs: { city: 'y' } }]).catch((e: unknown) => e);

    // Assess
    expect(await first).toMatchObject({ errorCode: -1, errorClass: 'transient' });
    expect(await second).toMatchObject({ errorCode: 70107, errorClass: 'permanent' });
    expect(await second).toBeInstanceOf(ImError);
    expect(im.snapshot()).toEqual({ a: { city: 'y' } });
  });
});
