import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator/index.ts';
import { callIm, startTestEmulator, users } from './helpers.ts';

describe('attribute names', () => {
  let emulator: Emulator;
  beforeEach(async () => {
    emulator = await startTestEmulator({ attrNames: ['sex', 'city'] });
  });
  afterEach(() => emulator.close());

  it('im_get_attr_name answers the pre-registered slots', async () => {
    // Act
    const reply = await callIm(emulator, 'im_get_attr_name', {});

    // Assess
    expect(reply.json).toEqual({
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: '',
      AttrNames: { '0': 'sex', '1': 'city' },
    });
  });

  it('im_set_attr_name merges slots, and the new name becomes settable', async () => {
    // Prepare
    const before = await callIm(emulator, 'im_set_attr', {
      UserAttrs: [{ To_Account: 'u1', Attrs: { tier: 'gold' } }],
    });

    // Act
    const set = await callIm(emulator, 'im_set_attr_name', { AttrNames: { '1': 'town', '5': 'tier' } });
    const after = await callIm(emulator, 'im_set_attr', { UserAttrs: [{ To_Account: 'u1', Attrs: { tier: 'gold' } }] });

    // Assess
    expect(before.json?.['ErrorCode']).toBe(90033);
    expect(set.json?.['ErrorCode']).toBe(0);
    expect(emulator.attrNames()).toEqual(['sex', 'town', 'tier']);
    expect(after.json?.['ErrorCode']).toBe(0);
  });

  it.each([
    ['slot "10"', { AttrNames: { '10': 'x' } }, 60003],
    ['a 51-byte name', { AttrNames: { '2': 'n'.repeat(51) } }, 60003],
    ['an empty name', { AttrNames: { '2': '' } }, 60003],
    ['no AttrNames', {}, 90001],
  ] as const)('im_set_attr_name rejects %s with %i and changes nothing', async (_label, body, code) => {
    // Act
    const reply = await callIm(emulator, 'im_set_attr_name', body);

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(code);
    expect(emulator.attrNames()).toEqual(['sex', 'city']);
  });

  it('im_get_attr_name rejects a body that is not a JSON object with 90001', async () => {
    // Act
    const reply = await callIm(emulator, 'im_get_attr_name', '[]');

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(90001);
  });
});

describe('im_get_attr and im_remove_attr', () => {
  let emulator: Emulator;
  beforeEach(async () => {
    emulator = await startTestEmulator();
    await callIm(emulator, 'im_set_attr', {
      UserAttrs: [
        { To_Account: 'u1', Attrs: { sex: 'f', city: 'Lyon' } },
        { To_Account: 'u2', Attrs: { tier: 'gold' } },
      ],
    });
  });
  afterEach(() => emulator.close());

  it('im_get_attr answers stored attributes in request order, {} for an unknown user', async () => {
    // Act
    const reply = await callIm(emulator, 'im_get_attr', { To_Account: ['u2', 'nobody', 'u1'] });

    // Assess
    expect(reply.json).toMatchObject({
      ActionStatus: 'OK',
      ErrorCode: 0,
      UserAttrs: [
        { To_Account: 'u2', Attrs: { tier: 'gold' } },
        { To_Account: 'nobody', Attrs: {} },
        { To_Account: 'u1', Attrs: { sex: 'f', city: 'Lyon' } },
      ],
    });
  });

  it('im_get_attr accepts 100 accounts and rejects 101 with 90018', async () => {
    // Prepare
    const accounts = users(101).map((u) => u.To_Account);

    // Act
    const ok = await callIm(emulator, 'im_get_attr', { To_Account: accounts.slice(0, 100) });
    const tooMany = await callIm(emulator, 'im_get_attr', { To_Account: accounts });

    // Assess
    expect(ok.json?.['ErrorCode']).toBe(0);
    expect(ok.json?.['UserAttrs']).toHaveLength(100);
    expect(tooMany.json?.['ErrorCode']).toBe(90018);
  });

  it('im_remove_attr removes the named attributes and keeps the rest', async () => {
    // Act
    const reply = await callIm(emulator, 'im_remove_attr', {
      UserAttrs: [
        { To_Account: 'u1', Attrs: ['city'] },
        { To_Account: 'u2', Attrs: ['tier'] },
      ],
    });

    // Assess
    expect(reply.json).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' });
    expect(emulator.attrs.get('u1')).toEqual({ sex: 'f' });
    expect(emulator.attrs.has('u2')).toBe(false);
  });

  it.each([
    [
      'an unregistered name',
      {
        UserAttrs: [
          { To_Account: 'u1', Attrs: ['city'] },
          { To_Account: 'u2', Attrs: ['shoe'] },
        ],
      },
      90033,
    ],
    ['101 users', { UserAttrs: users(101).map((u) => ({ To_Account: u.To_Account, Attrs: ['sex'] })) }, 90018],
    ['Attrs as an object', { UserAttrs: [{ To_Account: 'u1', Attrs: { city: '' } }] }, 60003],
    ['no UserAttrs', {}, 90001],
  ] as const)('im_remove_attr rejects %s with %i and removes nothing', async (_label, body, code) => {
    // Act
    const reply = await callIm(emulator, 'im_remove_attr', body);

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(code);
    expect(emulator.attrs.get('u1')).toEqual({ sex: 'f', city: 'Lyon' });
  });
});
