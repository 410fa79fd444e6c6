import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator/index.ts';
import { callIm, startTestEmulator, T0, users } from './helpers.ts';

describe('per-command sliding 1 s rate limit', () => {
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it('accepts 5 calls in a second, answers the 6th with 60007 without applying it, and frees slots as they age out', async () => {
    // Prepare
    let clock = T0;
    emulator = await startTestEmulator({ rateLimitPerSecond: 5, now: () => clock });
    const codes: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      codes.push(
        (await callIm(emulator, 'im_set_attr', { UserAttrs: users(1, { sex: 'f' }, `a${i}-`) })).json?.['ErrorCode'],
      );
      clock += 100;
    }

    // Act
    const over = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1, {}, 'over-') });
    clock = T0 + 1000; // the first call (at T0) has left the window
    const again = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1, {}, 'again-') });
    const overAgain = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1, {}, 'over2-') });

    // Assess
    expect(codes).toEqual([0, 0, 0, 0, 0]);
    expect(over.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 60007 });
    expect(again.json?.['ErrorCode']).toBe(0);
    expect(overAgain.json?.['ErrorCode']).toBe(60007);
    expect(emulator.attrs.has('over-0')).toBe(false);
    expect(emulator.counters.rejectedByCode.get(60007)).toBe(2);
    expect(emulator.counters.maxCallsInAnyWindow).toBe(5);
  });

  it('keeps a separate window per command', async () => {
    // Prepare
    emulator = await startTestEmulator({ rateLimitPerSecond: 2, now: () => T0 });
    await callIm(emulator, 'im_set_attr', { UserAttrs: users(1) });
    await callIm(emulator, 'im_set_attr', { UserAttrs: users(1) });

    // Act
    const setAttr = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1) });
    const getAttr = await callIm(emulator, 'im_get_attr', { To_Account: ['u0'] });

    // Assess
    expect(setAttr.json?.['ErrorCode']).toBe(60007);
    expect(getAttr.json?.['ErrorCode']).toBe(0);
  });

  it('with rateLimitPerSecond 0 accepts everything and still reports the busiest window', async () => {
    // Prepare
    const started = await startTestEmulator({ rateLimitPerSecond: 0, now: () => T0 });
    emulator = started;

    // Act
    const replies = await Promise.all(
      Array.from({ length: 150 }, () => callIm(started, 'im_set_attr', { UserAttrs: users(1) })),
    );

    // Assess
    expect(replies.filter((r) => r.json?.['ErrorCode'] === 0)).toHaveLength(150);
    expect(started.counters.maxCallsInAnyWindow).toBe(150);
  });

  it('does not count calls that failed authentication against the window', async () => {
    // Prepare
    emulator = await startTestEmulator({ rateLimitPerSecond: 1, now: () => T0 });
    await callIm(emulator, 'im_get_attr_name', {}, 'contenttype=json&random=1&sdkappid=1&identifier=x&usersig=x');

    // Act
    const reply = await callIm(emulator, 'im_get_attr_name', {});

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(0);
  });
});
