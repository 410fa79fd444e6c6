import {
  LANE_MESSAGE_LIMITS,
  planLaneMessages,
  planTagLaneMessages,
  type LaneMessage,
} from '../../../lib/core/lanes/lane-plan.ts';
import { parseUserTagsEnvelope, validateTagEntries } from '../../../lib/core/rules/tag-entry.ts';
import { describe, expect, it } from 'vitest';
import { laneGroupId, laneOf } from '../../../lib/core/lanes/lane-of.ts';
import type { UserUpdate } from '../../../lib/core/rules/types.ts';
import {
  acceptWebhook,
  HEAD_FIRST_MIN_ENTRIES,
  readTagsWebhook,
  readWebhook,
  type AcceptWebhookDeps,
} from '../../../lib/core/usecases/accept-webhook.ts';
import { validateUsers } from '../../../lib/core/rules/validate-users.ts';
import { LanesUnavailableError } from '../../../lib/core/errors.ts';
import { LearnedAttrNames } from '../../../lib/attr-names/registered-names.ts';
import { EarlyWriteGate } from '../../../lib/core/usecases/early-write-gate.ts';
import { ATTR_NAMES, makeUsers } from '../../helpers/factories.ts';
import { FakeClock, FakeIm, FakeLanes, FixedNames } from '../../helpers/fakes.ts';

const LANES = 4;

function setup(options: { inlineChunks?: number; inlineCapacity?: () => number } = {}) {
  const clock = new FakeClock();
  const im = new FakeIm();
  const lanes = new FakeLanes({ now: clock.now });
  const deps: AcceptWebhookDeps = {
    writer: im,
    attrNames: new FixedNames(ATTR_NAMES),
    lanes,
    laneCount: LANES,
    inlineChunks: options.inlineChunks ?? 0,
    ...(options.inlineCapacity === undefined ? {} : { inlineCapacity: options.inlineCapacity }),
  };
  const accept = (body: unknown, key = 'hook-1', requestId = `req-${key}`) =>
    acceptWebhook(deps, { requestId, key, body, deadlineMs: clock.now() + 5_000 });
  return { clock, im, lanes, deps, accept };
}

/** Accounts of lane `lane` (of `LANES`), `count` of them. */
function accountsInLane(lane: number, count: number, prefix = 'acc'): string[] {
  const found: string[] = [];
  for (let i = 0; found.length < count; i++) if (laneOf(`${prefix}-${i}`, LANES) === lane) found.push(`${prefix}-${i}`);
  return found;
}

describe('acceptWebhook', () => {
  describe('lanes', () => {
    it('puts every valid user in exactly one lane message, of its own lane', async () => {
      // Prepare
      const { lanes, accept } = setup();
      const users = makeUsers(450, 'hook');
      const invalid = [{ To_Account: 'bad', Attrs: { planet: 'Mars' } }, { Attrs: { city: 'x' } }];

      // Act
      const result = await accept({ UserAttrs: [...users.slice(0, 200), ...invalid, ...users.slice(200)] });

      // Assess
      const placed = lanes.queue.messages().flatMap((m) =>
        (JSON.parse(m.body) as { UserAttrs: UserUpdate[] }).UserAttrs.map((u) => ({
          account: u.To_Account,
          group: m.group,
        })),
      );
      expect(placed.map((p) => p.account).sort()).toEqual(users.map((u) => u.To_Account).sort());
      for (const p of placed) expect(p.group).toBe(laneGroupId(laneOf(p.account, LANES)));
      expect(
        Math.max(
          ...lanes.queue.messages().map((m) => (JSON.parse(m.body) as { UserAttrs: unknown[] }).UserAttrs.length),
        ),
      ).toBeLessThanOrEqual(LANE_MESSAGE_LIMITS.maxUsers);
      expect(result).toMatchObject({ received: 452, accepted: 450, queued: 450, applied: 0 });
      expect(result.rejected.map((r) => r.rule)).toEqual(['attr-name-unregistered', 'to-account-required']);
    });

    it('never drops another body sent under the same key as a duplicate: deduplication ids cover the content', async () => {
      // Prepare: the first body was written into its lanes, then the request failed (5xx) and its record was
      // not kept; the sender re-sends the same key with other users, and another value for a user
      const { lanes, accept } = setup();
      await accept({ UserAttrs: [{ To_Account: 'u-1', Attrs: { city: 'Paris' } }] }, 'hook-9');

      // Act
      await accept({ UserAttrs: [{ To_Account: 'u-1', Attrs: { city: 'Rome' } }] }, 'hook-9');
      await accept({ UserAttrs: [{ To_Account: 'u-1', Attrs: { city: 'Rome' } }] }, 'hook-9');

      // Assess: the second body is in, and its exact re-send still adds nothing twice
      const cities = lanes.queue
        .messages()
        .flatMap((m) => (JSON.parse(m.body) as { UserAttrs: UserUpdate[] }).UserAttrs.map((u) => u.Attrs['city']));
      expect(cities).toEqual(['Paris', 'Rome']);
    });

    it('reads the names again before refusing a name the cached list lacks (registered a moment ago), at most once per 10 s', async () => {
      // Prepare: the copy learned the names, then an operator registered `plan`
      const { clock, deps, lanes } = setup();
      const inIm = ['city'];
      let fetches = 0;
      const attrNames = new LearnedAttrNames({ fetch: async () => (fetches++, [...inIm]), now: clock.now });
      await attrNames.current();
      clock.advance(60_000);
      inIm.push('plan');
      const accept = (key: string, name: string) =>
        acceptWebhook(
          { ...deps, attrNames },
          {
            requestId: key,
            key,
            body: { UserAttrs: [{ To_Account: 'u-1', Attrs: { [name]: 'x' } }] },
            deadlineMs: clock.now() + 5_000,
          },
        );

      // Act
      const registered = await accept('k1', 'plan');
      const unknown = await accept('k2', 'tier');
      const unknownAgain = await accept('k3', 'tier');

      // Assess
      expect(registered).toMatchObject({ accepted: 1, rejected: [] });
      expect(unknown.rejected.map((r) => r.rule)).toEqual(['attr-name-unregistered']);
      expect(unknownAgain.rejected.map((r) => r.rule)).toEqual(['attr-name-unregistered']);
      expect(fetches).toBe(2);
      expect(lanes.queue.messages()).toHaveLength(1);
    });

    it('keeps the request order of the users within each lane', async () => {
      // Prepare
      const { lanes, accept } = setup();
      const users = makeUsers(700, 'order');

      // Act
      await accept({ UserAttrs: users });

      // Assess
      for (let lane = 0; lane < LANES; lane++) {
        const expected = users.filter((u) => laneOf(u.To_Account, LANES) === lane);
        expect(lanes.queuedUsers(lane)).toEqual(expected);
        const positions = lanes.appended.filter((a) => a.lane === lane).map((a) => a.position);
        expect(positions).toEqual(positions.map((_, i) => i));
      }
    });

    it('carries removals (null values) into the lanes as sent', async () => {
      // Prepare
      const { lanes, accept } = setup();
      const account = accountsInLane(2, 1)[0] as string;

      // Act
      await accept({ UserAttrs: [{ To_Account: account, Attrs: { city: null, tier: 'gold' } }] });

      // Assess
      expect(lanes.queuedUsers(2)).toEqual([{ To_Account: account, Attrs: { city: null, tier: 'gold' } }]);
    });

    it('gives the same deduplication ids to the same key, so a re-send adds nothing twice', async () => {
      // Prepare
      const { lanes, accept } = setup();
      const body = { UserAttrs: makeUsers(250, 'dedup') };

      // Act
      await accept(body, 'hook-same', 'req-1');
      const first = lanes.calls[0]?.messages.map((m) => m.dedupId);
      await accept(body, 'hook-same', 'req-2');
      const second = lanes.calls[1]?.messages.map((m) => m.dedupId);

      // Assess
      expect(second).toEqual(first);
      expect(new Set(first).size).toBe(first?.length);
      expect(lanes.appended.map((a) => a.requestId).every((id) => id === 'req-1')).toBe(true);
      expect(lanes.queue.size).toBe(first?.length);
    });

    it('gives other deduplication ids to another key', async () => {
      // Prepare
      const { lanes, accept } = setup();
      const body = { UserAttrs: makeUsers(250, 'dedup') };

      // Act
      await accept(body, 'hook-a');
      await accept(body, 'hook-b');

      // Assess
      const [a, b] = lanes.calls.map((c) => new Set(c.messages.map((m) => m.dedupId)));
      expect([...(a ?? [])].filter((id) => b?.has(id))).toEqual([]);
      expect(lanes.queue.size).toBe(2 * (a?.size ?? 0));
    });

    it('refuses the request with LanesUnavailableError and makes no early write when a lane cannot be written', async () => {
      // Prepare
      const { im, lanes, accept } = setup({ inlineChunks: 5 });
      const users = makeUsers(300, 'down');
      const pending = users.filter((u) => laneOf(u.To_Account, LANES) === 1).length;
      lanes.failWhen((m) => m.lane === 1);

      // Act
      const attempt = accept({ UserAttrs: users });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(LanesUnavailableError);
      await expect(attempt).rejects.toMatchObject({ accepted: 300 - pending, pending });
      expect(im.calls).toEqual([]);
    });

    it('completes a refused request on a re-send with the same key, adding nothing twice', async () => {
      // Prepare
      const { lanes, accept } = setup();
      const users = makeUsers(300, 'resend');
      lanes.failWhen((m) => m.lane === 1 && m.position === 0);
      await expect(accept({ UserAttrs: users }, 'hook-resend')).rejects.toBeInstanceOf(LanesUnavailableError);
      lanes.heal();

      // Act
      await accept({ UserAttrs: users }, 'hook-resend');

      // Assess
      for (let lane = 0; lane < LANES; lane++)
        expect(lanes.queuedUsers(lane)).toEqual(users.filter((u) => laneOf(u.To_Account, LANES) === lane));
    });
  });

  describe('a large webhook, one lane first', () => {
    /** 3,000 entries with duplicates and refused entries of every kind, spread over the lanes. */
    function largeBody(): { UserAttrs: unknown[] } {
      const entries: unknown[] = makeUsers(HEAD_FIRST_MIN_ENTRIES + 2_000, 'big');
      entries[0] = { To_Account: 42, Attrs: { city: 'x' } };
      entries[5] = { To_Account: 'big-7', Attrs: { city: 'later', tier: 'gold' } };
      entries[9] = { To_Account: 'big-11', Attrs: { nope: 'x' } };
      entries[2_999] = { To_Account: 'x'.repeat(40), Attrs: { city: 'x' } };
      return { UserAttrs: entries };
    }

    it('reads and plans exactly what a one-step read would, the head being all of its few lanes', async () => {
      // Prepare
      const body = largeBody();
      const deps = { attrNames: new FixedNames(ATTR_NAMES), laneCount: LANES };
      const oneStep = validateUsers(body, { allowedNames: new Set(ATTR_NAMES) });
      const planned = planLaneMessages(oneStep.users, LANES, 'hook-big');

      // Act
      const read = await readWebhook(deps, 'hook-big', body);
      const rest = await read.rest();

      // Assess
      // 3,000 entries over 4 lanes: about HEAD_FIRST_USERS (2,000) is 3 lanes' worth, capped at half the lanes.
      expect(new Set(read.head.map((m) => m.lane)).size).toBe(2);
      expect(read.head.length).toBeGreaterThan(0);
      const byId = (messages: readonly LaneMessage[]) =>
        [...messages].sort((a, b) => a.dedupId.localeCompare(b.dedupId));
      expect(byId([...read.head, ...rest.messages])).toEqual(byId(planned));
      expect([...rest.users].sort((a, b) => a.To_Account.localeCompare(b.To_Account))).toEqual(
        [...oneStep.users].sort((a, b) => a.To_Account.localeCompare(b.To_Account)),
      );
      expect(rest.rejected).toEqual(oneStep.rejected);
      expect(rest.received).toBe(oneStep.received);
    });

    it('reads a large tags request a few lanes first, planning exactly what a one-step read would', async () => {
      // Prepare: 3,000 entries, each account twice (composed into one), one bad entry.
      const entries: unknown[] = Array.from({ length: 3_000 }, (_, i) =>
        i % 2 === 0
          ? { To_Account: `t-${i >> 1}`, Add: ['a'] }
          : { To_Account: `t-${i >> 1}`, Remove: ['a'], Add: ['b'] },
      );
      entries[7] = { To_Account: 't-3', Add: [''] };
      const body = { UserTags: entries };
      const envelope = parseUserTagsEnvelope(body);
      const oneStep = validateTagEntries(envelope, envelope.entries.keys());
      const planned = planTagLaneMessages(oneStep.users, LANES, 'hook-tags');

      // Act
      const read = readTagsWebhook({ laneCount: LANES }, 'hook-tags', body);
      const rest = await read.rest();

      // Assess
      expect(new Set(read.head.map((m) => m.lane)).size).toBe(2);
      const byId = (messages: readonly LaneMessage[]) =>
        [...messages].sort((a, b) => a.dedupId.localeCompare(b.dedupId));
      expect(byId([...read.head, ...rest.messages])).toEqual(byId(planned));
      expect(rest.tags).toHaveLength(1_500);
      expect(rest.tags?.find((u) => u.To_Account === 't-0')).toEqual({ To_Account: 't-0', Remove: ['a'], Add: ['b'] });
      expect(rest.rejected.map((r) => [r.path, r.rule])).toEqual([['UserTags[7].Add[0]', 'tag-required']]);
    });

    it('writes the head lanes before the others and answers for every user', async () => {
      // Prepare
      const { lanes, accept } = setup();

      // Act
      const result = await accept(largeBody(), 'hook-big');

      // Assess: the first write holds the head's lanes, the second the others
      const headLanes = new Set(lanes.calls[0]?.messages.map((m) => m.lane));
      expect(lanes.calls).toHaveLength(2);
      expect(headLanes.size).toBe(2);
      expect(lanes.calls[1]?.messages.some((m) => headLanes.has(m.lane))).toBe(false);
      expect(result).toMatchObject({
        received: 3_000,
        rejected: expect.any(Array) as unknown,
        accepted: 2_996,
        queued: 2_996,
      });
      expect(result.rejected.map((r) => /^UserAttrs\[(\d+)\]/.exec(r.path)?.[1])).toEqual(['0', '9', '2999']);
    });
  });

  describe('early write', () => {
    it('uses at most inlineChunks calls, and writes only users already in their lanes', async () => {
      // Prepare
      const { im, lanes, accept } = setup({ inlineChunks: 2 });
      const inLanes: boolean[] = [];
      im.failWhen((call) => {
        const queued = new Set(lanes.appended.flatMap((a) => a.users.map((u) => u.To_Account)));
        inLanes.push(call.accounts.every((a) => queued.has(a)));
        return undefined;
      });
      // Lanes of 30, 50, 60 and 70 users: 210 users, 3 calls' worth, more than the early write's 2.
      const users = [30, 50, 60, 70].flatMap((count, lane) =>
        accountsInLane(lane, count, 'early').map((To_Account) => ({ To_Account, Attrs: { city: 'x' } })),
      );

      // Act
      const large = await accept({ UserAttrs: users });
      const small = await accept({ UserAttrs: users.slice(0, 150) });

      // Assess: the larger webhook goes to the workers whole; the smaller one in 2 calls, after its lanes
      expect(large).toMatchObject({ applied: 0, queued: 210 });
      expect(im.calls).toHaveLength(2);
      expect(inLanes).toEqual([true, true]);
      expect(small).toMatchObject({ applied: 150, queued: 0 });
    });

    it('writes nothing early for a webhook larger than its calls: the workers write it, with no extra call', async () => {
      // Prepare: 905 users in 4 lanes, an early write of at most 1 call
      const { im, lanes, accept } = setup({ inlineChunks: 1 });
      const users = [0, 1, 2, 3].flatMap((lane) =>
        accountsInLane(lane, lane === 0 ? 5 : 300, 'large').map((To_Account) => ({ To_Account, Attrs: { city: 'x' } })),
      );

      // Act
      const result = await accept({ UserAttrs: users });

      // Assess: every user in its lane, none written early
      expect(im.calls).toEqual([]);
      expect(result).toMatchObject({ accepted: 905, applied: 0, queued: 905 });
      expect(lanes.appended.flatMap((a) => a.users)).toHaveLength(905);
      expect(lanes.appended.map((m) => m.users.length)).toEqual([5, 300, 300, 300]);
    });

    it('writes a webhook early only once every one of its users is in its lane', async () => {
      // Prepare
      const { im, lanes, accept } = setup({ inlineChunks: 1 });
      const inLanes: number[] = [];
      im.failWhen(() => {
        inLanes.push(lanes.appended.flatMap((a) => a.users).length);
        return undefined;
      });

      // Act
      const result = await accept({ UserAttrs: makeUsers(80, 'order') });

      // Assess
      expect(inLanes).toEqual([80]);
      expect(result).toMatchObject({ accepted: 80, applied: 80, queued: 0 });
    });

    it('writes a small webhook in full and still leaves it in its lanes', async () => {
      // Prepare
      const { im, lanes, accept } = setup({ inlineChunks: 1 });
      const users = makeUsers(30, 'small');

      // Act
      const result = await accept({ UserAttrs: users });

      // Assess
      expect(result).toMatchObject({ accepted: 30, applied: 30, queued: 0 });
      expect(im.calls).toHaveLength(1);
      expect(lanes.queue.messages().length).toBeGreaterThan(0);
      expect(lanes.appended.flatMap((a) => a.users)).toHaveLength(30);
    });

    // A user with a value to set and a name to remove needs one set call and one remove call.
    it('uses at most inlineChunks calls when users both set and remove attributes', async () => {
      // Prepare
      const { im, accept } = setup({ inlineChunks: 1 });

      // Act
      await accept({ UserAttrs: [{ To_Account: 'mixed', Attrs: { city: 'x', tier: null } }] });

      // Assess
      expect(im.calls.length).toBeLessThanOrEqual(1);
    });

    it('makes no early write when the pacing has no room for it', async () => {
      // Prepare
      const { im, accept } = setup({ inlineChunks: 3, inlineCapacity: () => 0 });

      // Act
      const result = await accept({ UserAttrs: makeUsers(10) });

      // Assess
      expect(im.calls).toEqual([]);
      expect(result).toMatchObject({ applied: 0, queued: 10 });
    });

    it('counts every entry once: Received = Applied + Queued + Rejected + Merged', async () => {
      // Prepare: 5 accounts (2 sent twice), 2 invalid entries; IM fails one user for now and refuses another.
      const { im, accept } = setup({ inlineChunks: 1 });
      im.plan({ kind: 'errorList', codes: { 'c-2': 91000, 'c-3': 70107 } });
      const body = {
        UserAttrs: [
          { To_Account: 'c-0', Attrs: { city: 'a' } },
          { To_Account: 'c-1', Attrs: { city: 'a' } },
          { To_Account: 'c-2', Attrs: { city: 'a' } },
          { To_Account: 'c-0', Attrs: { tier: 'b' } },
          { To_Account: 'c-3', Attrs: { city: 'a' } },
          { To_Account: 'c-4', Attrs: { city: 'a' } },
          { To_Account: 'c-1', Attrs: { lang: 'en' } },
          { To_Account: 'c-5', Attrs: { planet: 'Mars' } },
          { To_Account: 'c-6', Attrs: {} },
        ],
      };

      // Act
      const result = await accept(body);

      // Assess
      expect(im.calls).toHaveLength(1);
      expect(result).toMatchObject({ received: 9, merged: 2, accepted: 5, applied: 3, queued: 1 });
      expect(result.rejected.map((r) => r.rule)).toEqual([
        'attr-name-unregistered',
        'attrs-must-not-be-empty',
        'im-error-70107',
      ]);
      expect(result.applied + result.queued + result.rejected.length + result.merged).toBe(result.received);
    });

    it('reports a user IM refuses for good in the early write as rejected, rule im-error-<code>', async () => {
      // Prepare
      const { im, lanes, accept } = setup({ inlineChunks: 2 });
      im.plan({ kind: 'errorList', codes: { ghost: 70107, flaky: 91000 } });
      const body = {
        UserAttrs: [
          { To_Account: 'ghost', Attrs: { city: 'a', lang: null } },
          { To_Account: 'real', Attrs: { city: 'a' } },
          { To_Account: 'flaky', Attrs: { city: 'a' } },
          { To_Account: 'bad', Attrs: { planet: 'Mars' } },
        ],
      };

      // Act
      const result = await accept(body);

      // Assess
      expect(result.rejected.map((r) => [r.To_Account, r.rule])).toEqual([
        ['bad', 'attr-name-unregistered'],
        ['ghost', 'im-error-70107'],
      ]);
      expect(result.rejected[1]?.message).toContain('70107');
      expect(result).toMatchObject({ received: 4, merged: 0, accepted: 3, applied: 1, queued: 1 });
      expect(result.applied + result.queued + result.rejected.length + result.merged).toBe(result.received);
      // The lanes still carry every accepted user: the worker decides for good.
      expect(lanes.appended.flatMap((a) => a.users.map((u) => u.To_Account)).sort()).toEqual([
        'flaky',
        'ghost',
        'real',
      ]);
    });
  });

  describe('the early write spends only idle budget', () => {
    it('makes no early write for a second after one missed its start (answered Queued at once), then tries again', async () => {
      // Prepare: the first early write finds no start in time
      const { clock, im, deps } = setup({ inlineChunks: 1 });
      const gate = new EarlyWriteGate({ now: clock.now });
      const accept = (key: string) =>
        acceptWebhook(
          { ...deps, inlineGate: gate },
          {
            requestId: key,
            key,
            body: { UserAttrs: [{ To_Account: `u-${key}`, Attrs: { city: 'x' } }] },
            deadlineMs: clock.now() + 5_000,
          },
        );
      im.plan({ kind: 'deadline', attempts: 0 });

      // Act
      const missed = await accept('k1');
      const paused = await accept('k2');
      clock.advance(1_000);
      const reopened = await accept('k3');

      // Assess
      expect(missed).toMatchObject({ applied: 0, queued: 1 });
      expect(paused).toMatchObject({ applied: 0, queued: 1 });
      expect(reopened).toMatchObject({ applied: 1, queued: 0 });
      expect(im.calls.map((c) => c.accounts)).toEqual([['u-k1'], ['u-k3']]);
    });
  });
});
