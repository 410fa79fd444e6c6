import { describe, expect, it } from 'vitest';
import { processLanes, type LanesDeps } from '../../../lib/core/usecases/process-lanes.ts';
import type { QueueRecord } from '../../../lib/core/ports.ts';
import { ATTR_NAMES } from '../../helpers/factories.ts';
import { FakeClock, FakeDeadLetters, FakeIm, FakeLanes, FakeLaneSource, FixedNames } from '../../helpers/fakes.ts';

/** A lanes queue of `lanes` lanes holding `perLane` single-user messages each (a stream of tiny webhooks). */
function setup(lanesCount: number, perLane: number) {
  const clock = new FakeClock();
  const im = new FakeIm();
  const lanes = new FakeLanes({ now: clock.now });
  for (let i = 0; i < perLane; i++) {
    for (let lane = 0; lane < lanesCount; lane++) {
      lanes.queue.send({
        group: `lane-${lane}`,
        body: JSON.stringify({ UserAttrs: [{ To_Account: `u-${lane}`, Attrs: { city: `v${i}` } }] }),
        requestId: `req-${lane}-${i}`,
      });
    }
  }
  const source = new FakeLaneSource(lanes.queue);
  const deadLetters = new FakeDeadLetters();
  const deps: LanesDeps = {
    writer: im,
    attrNames: new FixedNames(ATTR_NAMES),
    deadLetters,
    redelivery: lanes.queue.redelivery,
    outageToleranceMs: 60 * 60_000,
    retryMaxSeconds: 60,
    now: clock.now,
    source,
  };
  return { clock, im, lanes, source, deadLetters, deps };
}

describe('processLanes: gathering beyond the event batch', () => {
  it('merges a stream of single-user records from many lanes into full calls, and deletes what IM confirmed', async () => {
    // Prepare: 200 lanes with one single-user record each; the event source hands over 10
    const { im, lanes, source, deps } = setup(200, 1);
    const batch = lanes.queue.receive({ max: 10 });

    // Act
    const outcome = await processLanes(deps, batch, Date.now() + 30_000);
    lanes.queue.settle(batch, outcome.failedIds);

    // Assess: two rounds of 100 records, one call each, nothing left
    expect(im.calls.map((c) => c.users.length)).toEqual([100, 100]);
    expect(outcome).toMatchObject({
      gathered: 190,
      rounds: 2,
      applied: 200,
      undeleted: 0,
      failedIds: [],
      gatheredFailedIds: [],
    });
    expect(source.received).toHaveLength(190);
    expect(lanes.queue.size).toBe(0);
  });

  it("deletes its event batch's finished records at once, so their lanes' next records are taken in the same invocation", async () => {
    // Prepare: 5 lanes; the event batch holds each lane's first record, and two more wait behind each.
    const { im, lanes, source, deps } = setup(5, 1);
    const batch = lanes.queue.receive({ max: 10 });
    for (let i = 1; i < 3; i++)
      for (let lane = 0; lane < 5; lane++)
        lanes.queue.send({
          group: `lane-${lane}`,
          body: JSON.stringify({ UserAttrs: [{ To_Account: `u-${lane}`, Attrs: { city: `v${i}` } }] }),
          requestId: `req-${lane}-${i}`,
        });

    // Act: each round goes as soon as it has records (the budget is idle), one round at a time.
    const outcome = await processLanes(
      { ...deps, budgetIdle: () => true, gather: { roundsInFlight: 1 } },
      batch,
      Date.now() + 30_000,
    );
    lanes.queue.settle(batch, outcome.failedIds);

    // Assess: every lane drained by this one invocation, in order; Lambda's repeated delete changes nothing.
    expect(batch).toHaveLength(5);
    expect(source.received).toHaveLength(10);
    expect(lanes.queue.size).toBe(0);
    expect(im.snapshot()).toEqual(Object.fromEntries(Array.from({ length: 5 }, (_, l) => [`u-${l}`, { city: 'v2' }])));
    expect(outcome.failedIds).toEqual([]);
  });

  it('announces the calls a round will need while it is gathered, before the first call asks for a start', async () => {
    // Prepare: 120 lanes of one single-user record each; the budget turns idle once it has been told of a call
    const { im, lanes, deps } = setup(120, 1);
    const batch = lanes.queue.receive({ max: 10 });
    const announced: { calls: number; imCallsSoFar: number }[] = [];
    let booked = false;

    // Act
    await processLanes(
      {
        ...deps,
        budgetIdle: () => booked,
        expectCalls: (calls) => {
          announced.push({ calls, imCallsSoFar: im.calls.length });
          booked = true;
        },
      },
      batch,
      Date.now() + 30_000,
    );

    // Assess: told at once about the event batch (one call's worth at most), before any call was made, and told
    // again as each later round filled; the booking made the budget idle, so the first round went without gathering
    expect(announced[0]).toEqual({ calls: 1, imCallsSoFar: 0 });
    expect(announced.length).toBeGreaterThan(1);
    expect(announced.every((a) => a.calls >= 1 && Number.isInteger(a.calls))).toBe(true);
    expect(im.calls[0]?.users).toHaveLength(10);
  });

  it('sends a round at once when the budget is idle, and ends on an empty receive', async () => {
    // Prepare
    const { im, lanes, deps } = setup(3, 1);
    const batch = lanes.queue.receive({ max: 1 });

    // Act
    const outcome = await processLanes(
      { ...deps, budgetIdle: () => true, gather: { roundsInFlight: 1 } },
      batch,
      Date.now() + 30_000,
    );

    // Assess: the batch went alone; the two other lanes in the next round; then nothing was left
    expect(im.calls.map((c) => c.users.length)).toEqual([1, 2]);
    expect(outcome).toMatchObject({ rounds: 2, gathered: 2 });
  });

  it("gathers a lane's next record once its head is deleted, so a lane's updates land in order across rounds", async () => {
    // Prepare: one lane, three records of the same user
    const { im, lanes, deps } = setup(1, 3);

    // Act: an invocation whose event batch was empty of this lane (it gathers everything)
    const outcome = await processLanes({ ...deps, budgetIdle: () => true }, [], Date.now() + 30_000);

    // Assess
    expect(im.attrsOf('u-0')).toEqual({ city: 'v2' });
    expect(outcome.applied).toBeGreaterThan(0);
    expect(lanes.queue.size).toBe(0);
  });

  it('leaves a failed gathered record and the rest of its lane to the backoff, and the other lanes go on', async () => {
    // Prepare: IM refuses u-1's writes transiently
    const { im, lanes, deps } = setup(4, 2);
    im.failWhen((call) =>
      call.accounts.includes('u-1') ? { kind: 'users', errorCode: 91000, accounts: ['u-1'] } : undefined,
    );

    // Act
    const outcome = await processLanes(deps, [], Date.now() + 30_000);

    // Assess: u-1's last record stays (its earlier one was superseded in the merge and is done)
    const left = lanes.queue.messages();
    expect(left.map((m) => [m.group, JSON.parse(m.body) as unknown])).toEqual([
      ['lane-1', { UserAttrs: [{ To_Account: 'u-1', Attrs: { city: 'v1' } }] }],
    ]);
    expect(outcome.gatheredFailedIds).toEqual([left[0]?.id]);
    expect(im.attrsOf('u-0')).toEqual({ city: 'v1' });
    expect(im.attrsOf('u-1')).toBeUndefined();
  });

  it('keeps a record whose delete failed in flight: it comes back at its lane head and is written again, never behind newer ones', async () => {
    // Prepare: lane 0's deletes fail once; then a newer update of u-0 arrives
    const { clock, im, lanes, source, deps } = setup(2, 1);
    source.failDeletesWhen((r: QueueRecord) => r.group === 'lane-0');
    const first = await processLanes({ ...deps, budgetIdle: () => true }, [], Date.now() + 30_000);
    lanes.queue.send({
      group: 'lane-0',
      body: JSON.stringify({ UserAttrs: [{ To_Account: 'u-0', Attrs: { city: 'newer' } }] }),
      requestId: 'req-newer',
    });
    source.failDeletesWhen(() => false);

    // Act: while the undeleted record is in flight, nothing of its lane is received; once its visibility timeout
    // ends it comes back first, then the newer record
    const blocked = await processLanes({ ...deps, budgetIdle: () => true }, [], Date.now() + 30_000);
    lanes.queue.abandon(source.undeleted);
    clock.advance(31_000);
    const later = await processLanes({ ...deps, budgetIdle: () => true }, [], Date.now() + 30_000);

    // Assess
    expect(first.undeleted).toBe(1);
    expect(blocked.gathered).toBe(0);
    expect(later.applied).toBeGreaterThan(0);
    expect(im.attrsOf('u-0')).toEqual({ city: 'newer' });
    expect(lanes.queue.size).toBe(0);
  });

  it("deletes a lane's records in order: when one's delete fails, the later ones of its lane stay too, so the lane comes back in order", async () => {
    // Prepare: one lane with two records of the same user, received together; the first one's delete fails
    const { clock, im, lanes, source, deps } = setup(1, 2);
    const first = lanes.queue.messages('lane-0')[0]?.id;
    source.failDeletesWhen((r: QueueRecord) => r.id === first);

    // Act
    const outcome = await processLanes({ ...deps, budgetIdle: () => true }, [], Date.now() + 30_000);
    lanes.queue.abandon(source.received.filter((r) => outcome.undeletedIds.includes(r.id)));
    clock.advance(31_000);
    source.failDeletesWhen(() => false);
    await processLanes({ ...deps, budgetIdle: () => true }, [], Date.now() + 30_000);

    // Assess: both stayed and came back in order, so the newer value is the last written
    expect(outcome.undeletedIds).toHaveLength(2);
    expect(im.attrsOf('u-0')).toEqual({ city: 'v1' });
    expect(lanes.queue.size).toBe(0);
  });

  it('keeps at most roundsInFlight rounds going: the next is gathered while the calls of the one before wait', async () => {
    // Prepare: a writer that holds every call until released
    const { im, lanes, deps } = setup(30, 1);
    let inFlight = 0;
    let most = 0;
    const slow = {
      setAttr: async (...args: Parameters<FakeIm['setAttr']>) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return im.setAttr(...args);
      },
      removeAttr: im.removeAttr.bind(im),
      addTags: im.addTags.bind(im),
      removeTags: im.removeTags.bind(im),
      removeAllTags: im.removeAllTags.bind(im),
    };

    // Act
    const outcome = await processLanes(
      { ...deps, writer: slow, gather: { maxRecords: 10, roundsInFlight: 2 } },
      [],
      Date.now() + 30_000,
    );

    // Assess
    expect(outcome.rounds).toBe(3);
    expect(most).toBe(2);
    expect(lanes.queue.size).toBe(0);
  });

  it('stops gathering after gather.forMs, and gathers nothing without a source', async () => {
    // Prepare
    const { clock, im, lanes, deps } = setup(50, 1);
    const slowIm = {
      setAttr: async (...args: Parameters<FakeIm['setAttr']>) => (clock.advance(600), im.setAttr(...args)),
      removeAttr: im.removeAttr.bind(im),
      addTags: im.addTags.bind(im),
      removeTags: im.removeTags.bind(im),
      removeAllTags: im.removeAllTags.bind(im),
    };
    const withoutSource: LanesDeps = { ...deps, source: undefined };

    // Act
    const bounded = await processLanes(
      { ...deps, writer: slowIm, budgetIdle: () => true, gather: { forMs: 1_000, maxRecords: 10 } },
      [],
      Date.now() + 30_000,
    );
    const alone = await processLanes(withoutSource, [], Date.now() + 30_000);

    // Assess: rounds of 10 taking 600 ms each, so two rounds fit the second
    expect(bounded.rounds).toBe(2);
    expect(lanes.queue.size).toBe(30);
    expect(alone).toMatchObject({ rounds: 0, gathered: 0, receives: 0 });
  });
});
