import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../lib/webhook/replay-guard.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('ReplayGuard', () => {
  it('accepts an id the first time and refuses it the second', () => {
    // Prepare
    const guard = new ReplayGuard({ now: manualClock().now });

    // Act
    const first = guard.firstSighting('msg_1');
    const second = guard.firstSighting('msg_1');

    // Assess
    expect(first).toBe(true);
    expect(second).toBe(false);
  });

  it('tells ids apart', () => {
    // Prepare
    const guard = new ReplayGuard({ now: manualClock().now });
    guard.firstSighting('msg_1');

    // Act
    const other = guard.firstSighting('msg_2');

    // Assess
    expect(other).toBe(true);
  });

  it('remembers an id for 10 minutes by default: ±5 minutes of signature tolerance', () => {
    // Prepare
    const clock = manualClock();
    const guard = new ReplayGuard({ now: clock.now });
    guard.firstSighting('msg_1');

    // Act
    clock.advance(10 * 60_000 - 1);
    const justBefore = guard.firstSighting('msg_1');
    clock.advance(1);
    const atExpiry = guard.firstSighting('msg_1');

    // Assess
    expect(justBefore).toBe(false);
    expect(atExpiry).toBe(true);
  });

  it('counts the window from the first sighting: a refused replay does not extend it', () => {
    // Prepare
    const clock = manualClock();
    const guard = new ReplayGuard({ ttlMs: 1000, now: clock.now });
    guard.firstSighting('msg_1');
    clock.advance(600);
    guard.firstSighting('msg_1');

    // Act
    clock.advance(400);
    const afterFirstWindow = guard.firstSighting('msg_1');

    // Assess
    expect(afterFirstWindow).toBe(true);
  });

  it('starts a new window when an expired id is seen again', () => {
    // Prepare
    const clock = manualClock();
    const guard = new ReplayGuard({ ttlMs: 1000, now: clock.now });
    guard.firstSighting('msg_1');
    clock.advance(1000);
    guard.firstSighting('msg_1');

    // Act
    clock.advance(999);
    const withinNewWindow = guard.firstSighting('msg_1');

    // Assess
    expect(withinNewWindow).toBe(false);
  });

  it('forgets the oldest ids beyond maxEntries and keeps the newest', () => {
    // Prepare
    const clock = manualClock();
    const guard = new ReplayGuard({ maxEntries: 3, now: clock.now });
    for (const id of ['a', 'b', 'c', 'd']) {
      guard.firstSighting(id);
      clock.advance(1);
    }

    // Act
    const newest = ['b', 'c', 'd'].map((id) => guard.firstSighting(id));
    const oldest = guard.firstSighting('a');

    // Assess
    expect(newest).toEqual([false, false, false]);
    expect(oldest).toBe(true);
  });

  it('keeps a re-seen expired id as the newest entry when evicting by count', () => {
    // Prepare
    const clock = manualClock();
    const guard = new ReplayGuard({ ttlMs: 100, maxEntries: 2, now: clock.now });
    guard.firstSighting('a');
    clock.advance(100);
    guard.firstSighting('a'); // expired: seen anew, now the newest
    guard.firstSighting('b');

    // Act
    guard.firstSighting('c'); // one over the limit: the oldest entry goes
    const a = guard.firstSighting('a');

    // Assess
    expect(a).toBe(true);
  });
});
