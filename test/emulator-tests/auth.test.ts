import { afterEach, describe, expect, it } from 'vitest';
import { signUserSig } from '../../lib/usersig/user-sig.ts';
import type { Emulator } from '../../local/emulator/index.ts';
import { callIm, signedQuery, startTestEmulator, T0, testKey, users } from './helpers.ts';

describe('query-string and UserSig checks', () => {
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it.each([
    ['contenttype is not json', { contenttype: 'xml' }, 60002],
    ['contenttype is missing', { contenttype: undefined }, 60002],
    ['random is missing', { random: undefined }, 60002],
    ['random is above uint32', { random: '4294967296' }, 60002],
    ['random is negative', { random: '-1' }, 60002],
    ['random is not digits', { random: '12a' }, 60002],
    ['sdkappid is another app', { sdkappid: '1400000999' }, 70016],
    ['sdkappid is missing', { sdkappid: undefined }, 70016],
    ['identifier is not the admin', { identifier: 'someone' }, 90009],
    ['usersig is missing', { usersig: undefined }, 70003],
    ['usersig is garbage', { usersig: 'not-a-user-sig' }, 70003],
    ['usersig is for another app', { usersig: signUserSig({ ...testKey, sdkAppId: 1400000999 }, 86400) }, 70013],
    ['usersig is for another account', { usersig: signUserSig({ ...testKey, identifier: 'other' }, 86400) }, 70014],
    ['usersig is signed with another key', { usersig: signUserSig({ ...testKey, secretKey: 'wrong' }, 86400) }, 70009],
  ] as const)('answers %s with its code, HTTP 200 and nothing applied', async (_label, overrides, code) => {
    // Prepare
    emulator = await startTestEmulator();

    // Act
    const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1) }, signedQuery(overrides));

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: code });
    expect(emulator.attrs.size).toBe(0);
    expect(emulator.counters.rejectedByCode.get(code)).toBe(1);
  });

  it('accepts the largest uint32 random and a valid admin UserSig', async () => {
    // Prepare
    emulator = await startTestEmulator();

    // Act
    const reply = await callIm(emulator, 'im_set_attr', { UserAttrs: users(1) }, signedQuery({ random: '4294967295' }));

    // Assess
    expect(reply.json).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' });
    expect(emulator.counters.ok).toBe(1);
  });

  it('checks contenttype before sdkappid, sdkappid before identifier, identifier before usersig', async () => {
    // Prepare
    emulator = await startTestEmulator();
    const allWrong = { contenttype: 'xml', sdkappid: '1', identifier: 'x', usersig: 'x' };

    // Act
    const codes = [];
    for (const fixed of [{}, { contenttype: 'json' }, { contenttype: 'json', sdkappid: String(testKey.sdkAppId) }]) {
      const reply = await callIm(emulator, 'im_get_attr_name', {}, signedQuery({ ...allWrong, ...fixed }));
      codes.push(reply.json?.['ErrorCode']);
    }

    // Assess
    expect(codes).toEqual([60002, 70016, 90009]);
  });

  it('answers 70001 once the UserSig has expired by the emulator clock', async () => {
    // Prepare
    let clock = T0;
    emulator = await startTestEmulator({ now: () => clock });
    const query = signedQuery({ usersig: signUserSig(testKey, 60, T0 / 1000) });
    const before = await callIm(emulator, 'im_get_attr_name', {}, query);

    // Act
    clock = T0 + 61_000;
    const after = await callIm(emulator, 'im_get_attr_name', {}, query);

    // Assess
    expect(before.json?.['ErrorCode']).toBe(0);
    expect(after.json?.['ErrorCode']).toBe(70001);
  });

  it('after key rotation accepts only UserSigs signed with the new key', async () => {
    // Prepare
    emulator = await startTestEmulator();
    const oldQuery = signedQuery();
    const warmed = await callIm(emulator, 'im_get_attr_name', {}, oldQuery);

    // Act
    emulator.setSecretKey('rotated-secret');
    const withOld = await callIm(emulator, 'im_get_attr_name', {}, oldQuery);
    const withNew = await callIm(
      emulator,
      'im_get_attr_name',
      {},
      signedQuery({}, { ...testKey, secretKey: 'rotated-secret' }),
    );

    // Assess
    expect(warmed.json?.['ErrorCode']).toBe(0);
    expect(withOld.json?.['ErrorCode']).toBe(70009);
    expect(withNew.json?.['ErrorCode']).toBe(0);
  });

  it('locks the admin out with 70050 for 60 s after 10 signature-wrong failures within 60 s', async () => {
    // Prepare
    let clock = T0;
    emulator = await startTestEmulator({ now: () => clock });
    const bad = signedQuery({ usersig: signUserSig({ ...testKey, secretKey: 'wrong' }, 86400, T0 / 1000) });
    const good = () => signedQuery({}, testKey, Math.floor(clock / 1000));
    const failures = [];
    for (let i = 0; i < 10; i++)
      failures.push((await callIm(emulator, 'im_get_attr_name', {}, bad)).json?.['ErrorCode']);

    // Act
    const locked = await callIm(emulator, 'im_get_attr_name', {}, good());
    clock += 59_000;
    const stillLocked = await callIm(emulator, 'im_get_attr_name', {}, good());
    clock += 1_000;
    const unlocked = await callIm(emulator, 'im_get_attr_name', {}, good());

    // Assess
    expect(failures).toEqual(Array.from({ length: 10 }, () => 70009));
    expect(locked.json?.['ErrorCode']).toBe(70050);
    expect(stillLocked.json?.['ErrorCode']).toBe(70050);
    expect(unlocked.json?.['ErrorCode']).toBe(0);
  });

  it('does not lock out when the failures are spread over more than 60 s, nor for expired UserSigs', async () => {
    // Prepare
    let clock = T0;
    emulator = await startTestEmulator({ now: () => clock, lockoutAfterSigFailures: 3 });
    const bad = signedQuery({ usersig: 'garbage' });
    const expired = signedQuery({ usersig: signUserSig(testKey, 1, T0 / 1000 - 100) });

    // Act
    for (let i = 0; i < 4; i++) {
      await callIm(emulator, 'im_get_attr_name', {}, bad);
      await callIm(emulator, 'im_get_attr_name', {}, expired);
      clock += 31_000;
    }
    const after = await callIm(emulator, 'im_get_attr_name', {}, signedQuery({}, testKey, Math.floor(clock / 1000)));

    // Assess
    expect(emulator.counters.rejectedByCode.get(70003)).toBe(4);
    expect(emulator.counters.rejectedByCode.get(70001)).toBe(4);
    expect(after.json?.['ErrorCode']).toBe(0);
  });
});
