import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator/index.ts';
import { callIm, startTestEmulator, users } from './helpers.ts';

describe('im_set_attr', () => {
  let emulator: Emulator;
  beforeEach(async () => {
    emulator = await startTestEmulator({ rateLimitPerSecond: 0 });
  });
  afterEach(() => emulator.close());

  it('applies 100 users in one call', async () => {
    // Prepare
    const body = { UserAttrs: users(100, { sex: 'm', city: 'Paris' }) };

    // Act
    const reply = await callIm(emulator, 'im_set_attr', body);

    // Assess
    expect(reply.json).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
    expect(emulator.attrs.size).toBe(100);
    expect(emulator.attrs.get('u99')).toEqual({ sex: 'm', city: 'Paris' });
    expect(emulator.counters.usersApplied).toBe(100);
  });

  it('rejects 101 users with 90018 and applies none', async () => {
    // Prepare
    const body = { UserAttrs: users(101) };

    // Act
    const reply = await callIm(emulator, 'im_set_attr', body);

    // Assess
    expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 90018 });
    expect(emulator.attrs.size).toBe(0);
    expect(emulator.counters.usersApplied).toBe(0);
  });

  it('fails the whole call with 90033 when one user has an unregistered attribute name', async () => {
    // Prepare
    const body = { UserAttrs: [...users(5), { To_Account: 'bad', Attrs: { shoe: '42' } }] };

    // Act
    const reply = await callIm(emulator, 'im_set_attr', body);

    // Assess
    expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 90033 });
    expect(emulator.attrs.size).toBe(0);
  });

  it.each([
    ['50 ASCII bytes', 'a'.repeat(50), 0],
    ['51 ASCII bytes', 'a'.repeat(51), 90033],
    ['16 CJK characters (48 bytes)', '中'.repeat(16), 0],
    ['17 CJK characters (51 bytes)', '中'.repeat(17), 90033],
  ] as const)('counts UTF-8 bytes: a value of %s answers %i', async (_label, value, code) => {
    // Prepare
    const body = { UserAttrs: [{ To_Account: 'u1', Attrs: { city: value } }] };

    // Act
    const reply = await callIm(emulator, 'im_set_attr', body);

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(code);
    expect(emulator.attrs.get('u1')?.['city']).toBe(code === 0 ? value : undefined);
  });

  it.each([
    ['a number value', { UserAttrs: [{ To_Account: 'u1', Attrs: { sex: 1 } }] }, 90033],
    ['a null value', { UserAttrs: [{ To_Account: 'u1', Attrs: { sex: null } }] }, 90033],
    ['an empty To_Account', { UserAttrs: [{ To_Account: '', Attrs: { sex: 'f' } }] }, 60003],
    ['a 33-byte To_Account', { UserAttrs: [{ To_Account: 'x'.repeat(33), Attrs: { sex: 'f' } }] }, 60003],
    ['a numeric To_Account', { UserAttrs: [{ To_Account: 7, Attrs: { sex: 'f' } }] }, 60003],
    ['Attrs as an array', { UserAttrs: [{ To_Account: 'u1', Attrs: ['sex'] }] }, 60003],
    ['no UserAttrs', { Users: [] }, 90001],
    ['UserAttrs as an object', { UserAttrs: { To_Account: 'u1' } }, 90001],
  ] as const)('rejects %s with %i', async (_label, body, code) => {
    // Act
    const reply = await callIm(emulator, 'im_set_attr', body);

    // Assess
    expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: code });
    expect(emulator.attrs.size).toBe(0);
  });

  it('accepts a 32-byte To_Account', async () => {
    // Prepare
    const account = 'x'.repeat(32);

    // Act
    const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: [{ To_Account: account, Attrs: { sex: 'f' } }] });

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(0);
    expect(emulator.attrs.has(account)).toBe(true);
  });

  it.each([
    ['broken JSON', '{"UserAttrs":['],
    ['an empty body', ''],
  ])('answers %s with 90001', async (_label, body) => {
    // Act
    const reply = await callIm(emulator, 'im_set_attr', body);

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 90001 });
  });

  it('keeps state between calls and overwrites per attribute name', async () => {
    // Prepare
    await callIm(emulator, 'im_set_attr', { UserAttrs: [{ To_Account: 'u1', Attrs: { sex: 'f', city: 'Lyon' } }] });

    // Act
    await callIm(emulator, 'im_set_attr', { UserAttrs: [{ To_Account: 'u1', Attrs: { city: 'Nice', tier: 'gold' } }] });

    // Assess
    expect(emulator.attrs.get('u1')).toEqual({ sex: 'f', city: 'Nice', tier: 'gold' });
    expect(emulator.counters.usersApplied).toBe(2);
  });

  it('stores an attribute named like an Object.prototype key as plain data', async () => {
    // Prepare
    await callIm(emulator, 'im_set_attr_name', { AttrNames: { '9': '__proto__' } });

    // Act
    const reply = await callIm(emulator, 'im_set_attr', {
      UserAttrs: [{ To_Account: 'u1', Attrs: JSON.parse('{"__proto__":"x"}') as Record<string, string> }],
    });

    // Assess
    expect(reply.json?.['ErrorCode']).toBe(0);
    expect(Object.keys(emulator.attrs.get('u1') ?? {})).toEqual(['__proto__']);
  });
});

describe('im_set_attr partial failure', () => {
  let emulator: Emulator;
  beforeEach(async () => {
    emulator = await startTestEmulator({ partialFailureAccounts: new Set(['ghost1', 'ghost2']) });
  });
  afterEach(() => emulator.close());

  it('applies the others and lists the failing accounts in ErrorList with 70107', async () => {
    // Prepare
    const body = {
      UserAttrs: [
        ...users(3),
        { To_Account: 'ghost1', Attrs: { sex: 'f' } },
        { To_Account: 'ghost2', Attrs: { sex: 'm' } },
      ],
    };

    // Act
    const reply = await callIm(emulator, 'im_set_attr', body);

    // Assess
    expect(reply.json).toMatchObject({
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorList: [
        { To_Account: 'ghost1', ErrorCode: 70107 },
        { To_Account: 'ghost2', ErrorCode: 70107 },
      ],
    });
    expect([...emulator.attrs.keys()].sort()).toEqual(['u0', 'u1', 'u2']);
    expect(emulator.counters.usersApplied).toBe(3);
  });

  it('answers without ErrorList when no failing account is in the call', async () => {
    // Act
    const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: users(2) });

    // Assess
    expect(reply.json).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' });
  });
});
