import { describe, expect, it } from 'vitest';
import { MemoUserSigProvider } from '../../lib/im/memo-sig-provider.ts';
import { decodeUserSig, verifyUserSig } from '../../lib/usersig/user-sig.ts';
import { appKey, rotatedKey } from './helpers/fakes.ts';

describe('MemoUserSigProvider', () => {
  it('signs a verifiable UserSig once and reuses it', async () => {
    // Prepare
    let now = 1_700_000_000;
    const provider = new MemoUserSigProvider({ expireSeconds: 1000, nowSeconds: () => now });

    // Act
    const first = await provider.getUserSig(appKey);
    now += 10;
    const second = await provider.getUserSig(appKey);

    // Assess
    expect(verifyUserSig(first, appKey, now).ok).toBe(true);
    expect(second).toBe(first);
  });

  it('signs anew after half the lifetime, after invalidate, and for other credentials', async () => {
    // Prepare
    let now = 1_700_000_000;
    const provider = new MemoUserSigProvider({ expireSeconds: 1000, nowSeconds: () => now });
    const first = await provider.getUserSig(appKey);

    // Act
    now += 500;
    const renewed = await provider.getUserSig(appKey);
    provider.invalidate();
    now += 1;
    const afterInvalidate = await provider.getUserSig(appKey);
    const rotated = await provider.getUserSig(rotatedKey);

    // Assess
    expect(decodeUserSig(renewed)?.time).toBe(1_700_000_500);
    expect(renewed).not.toBe(first);
    expect(decodeUserSig(afterInvalidate)?.time).toBe(1_700_000_501);
    expect(verifyUserSig(rotated, rotatedKey, now).ok).toBe(true);
    expect(verifyUserSig(rotated, appKey, now).ok).toBe(false);
  });
});
