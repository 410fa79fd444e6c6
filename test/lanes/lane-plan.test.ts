import { describe, expect, it } from 'vitest';
import { LANE_MESSAGE_LIMITS, planLaneMessages } from '../../lib/lanes/lane-plan.ts';
import { laneOf } from '../../lib/lanes/lane-of.ts';
import { makeUsers } from '../helpers/factories.ts';

describe('planLaneMessages with headMaxUsers', () => {
  it('cuts each lane’s first message to the head size and keeps every lane’s order', () => {
    // Prepare
    const users = makeUsers(5_000, 'head');
    const limits = { ...LANE_MESSAGE_LIMITS, headMaxUsers: 100 };

    // Act
    const messages = planLaneMessages(users, 4, 'key-1', limits);

    // Assess
    for (let lane = 0; lane < 4; lane++) {
      const own = messages.filter((m) => m.lane === lane);
      expect(own.map((m) => m.position)).toEqual(own.map((_, i) => i));
      expect(own[0]?.users.length).toBe(100);
      expect(own.slice(1).every((m) => m.users.length <= LANE_MESSAGE_LIMITS.maxUsers)).toBe(true);
      const inOrder = users.filter((u) => laneOf(u.To_Account, 4) === lane).map((u) => u.To_Account);
      expect(own.flatMap((m) => m.users.map((u) => u.To_Account))).toEqual(inOrder);
    }
  });

  it('plans a re-send the same way, dedup ids included', () => {
    // Prepare
    const users = makeUsers(1_000, 'again');
    const limits = { ...LANE_MESSAGE_LIMITS, headMaxUsers: 100 };

    // Act
    const first = planLaneMessages(users, 20, 'webhook-7', limits);
    const again = planLaneMessages(users, 20, 'webhook-7', limits);

    // Assess
    expect(again).toEqual(first);
    expect(new Set(first.map((m) => m.dedupId)).size).toBe(first.length);
  });

  it('leaves lanes whole without a head size', () => {
    // Act
    const messages = planLaneMessages(makeUsers(1_000, 'whole'), 4, 'key-2');

    // Assess
    expect(messages).toHaveLength(4);
  });
});
