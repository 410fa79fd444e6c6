import { describe, expect, it } from 'vitest';
import type { ImCredentials } from '../../lib/credentials/types.ts';
import { AdminSigCache, AdminSigTooSlowError, adminSigCacheDefaults } from '../../lib/usersig/admin-sig-cache.ts';
import type { UserSigSigner } from '../../lib/usersig/admin-sig-cache.ts';
import { decodeUserSig, signUserSig, verifyUserSig } from '../../lib/usersig/user-sig.ts';

const CREDS: ImCredentials = { sdkAppId: 1400000000, identifier: 'administrator', secretKey: 'secret-key-one' };
const START_MS = 1_700_000_000_000;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** A clock that moves only when told to. */
function fakeClock(startMs = START_MS): { now: () => number; advance: (ms: number) => void } {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms) => (nowMs += ms) };
}

/** The real signer, counting its calls. */
function countingSigner(): { sign: UserSigSigner; calls: () => number } {
  let calls = 0;
  return {
    sign: (key, expire, now) => {
      calls++;
      return signUserSig(key, expire, now);
    },
    calls: () => calls,
  };
}

/** A signer that resolves only when `release` is called, to hold a signing in flight; `newestFirst` lands the latest signing first. */
function heldSigner(): { sign: UserSigSigner; calls: () => number; release: (order?: { newestFirst: boolean }) => void; fail: (e: Error) => void } {
  let calls = 0;
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  return {
    sign: (key, expire, now) => {
      calls++;
      return new Promise<string>((resolve, reject) => {
        pending.push({ resolve: () => resolve(signUserSig(key, expire, now)), reject });
      });
    },
    calls: () => calls,
    release: (order) => {
      const batch = pending.splice(0);
      (order?.newestFirst === true ? batch.reverse() : batch).forEach((p) => p.resolve());
    },
    fail: (e) => pending.splice(0).forEach((p) => p.reject(e)),
  };
}

describe('AdminSigCache', () => {
  it('signs once for a thousand concurrent calls, and all get the same valid UserSig', async () => {
    // Prepare
    const clock = fakeClock();
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign });

    // Act
    const sigs = await Promise.all(Array.from({ length: 1000 }, () => cache.getUserSig(CREDS)));

    // Assess
    expect(signer.calls()).toBe(1);
    expect(new Set(sigs).size).toBe(1);
    expect(verifyUserSig(sigs[0] ?? '', CREDS, clock.now() / 1000).ok).toBe(true);
  });

  it('signs once for a thousand concurrent calls when the signer is async', async () => {
    // Prepare
    const signer = heldSigner();
    const cache = new AdminSigCache({ now: fakeClock().now, sign: signer.sign });
    const pending = Array.from({ length: 1000 }, () => cache.getUserSig(CREDS));

    // Act
    await Promise.resolve();
    signer.release();
    const sigs = await Promise.all(pending);
    const later = await cache.getUserSig(CREDS);

    // Assess
    expect(signer.calls()).toBe(1);
    expect(new Set([...sigs, later]).size).toBe(1);
  });

  it('signs with the default lifetime of 24 h', async () => {
    // Prepare
    const clock = fakeClock();
    const cache = new AdminSigCache({ now: clock.now });

    // Act
    const fields = decodeUserSig(await cache.getUserSig(CREDS));

    // Assess
    expect(fields).toMatchObject({ expire: adminSigCacheDefaults.expireSeconds, time: clock.now() / 1000 });
    expect(adminSigCacheDefaults.expireSeconds).toBeGreaterThanOrEqual(86_400);
  });

  it('reuses the UserSig until less than the margin remains, then signs a new one', async () => {
    // Prepare
    const clock = fakeClock();
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign, expireSeconds: 86_400, renewBeforeSeconds: 3_600 });
    const first = await cache.getUserSig(CREDS);

    // Act
    clock.advance(23 * 60 * MINUTE_MS - 1);
    const beforeMargin = await cache.getUserSig(CREDS);
    clock.advance(1);
    const atMargin = await cache.getUserSig(CREDS);

    // Assess
    expect(beforeMargin).toBe(first);
    expect(atMargin).not.toBe(first);
    expect(signer.calls()).toBe(2);
    expect(decodeUserSig(atMargin)?.time).toBe(clock.now() / 1000);
  });

  it('never returns a UserSig with less than the margin left over 10 days in 10-minute steps', async () => {
    // Prepare
    const clock = fakeClock(START_MS + 123_456); // not on a whole second: the UserSig's time is rounded down
    const signer = countingSigner();
    const renewBeforeSeconds = 3_600;
    const expireSeconds = 86_400;
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign, expireSeconds, renewBeforeSeconds });
    const observations: { nowSeconds: number; userSig: string }[] = [];

    // Act
    for (let elapsed = 0; elapsed <= 10 * DAY_MS; elapsed += 10 * MINUTE_MS) {
      observations.push({ nowSeconds: clock.now() / 1000, userSig: await cache.getUserSig(CREDS) });
      clock.advance(10 * MINUTE_MS);
    }

    // Assess
    for (const { nowSeconds, userSig } of observations) {
      expect(verifyUserSig(userSig, CREDS, Math.floor(nowSeconds)).ok).toBe(true);
      const fields = decodeUserSig(userSig);
      expect((fields?.time ?? 0) + (fields?.expire ?? 0) - nowSeconds).toBeGreaterThan(renewBeforeSeconds);
    }
    const renewals = new Set(observations.map((o) => o.userSig)).size;
    expect(signer.calls()).toBe(renewals);
    // Renewed about every (24 h − 1 h), not per call: 10 days need 11 UserSigs.
    expect(renewals).toBe(Math.floor((10 * DAY_MS) / ((expireSeconds - renewBeforeSeconds) * 1000)) + 1);
  });

  it.each([
    ['secret key (rotation)', { secretKey: 'secret-key-two' }],
    ['identifier', { identifier: 'other-admin' }],
    ['sdkAppId', { sdkAppId: 1400000001 }],
  ])('signs anew when the %s changes', async (_label, change) => {
    // Prepare
    const clock = fakeClock();
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign });
    const rotated: ImCredentials = { ...CREDS, ...change };
    const first = await cache.getUserSig(CREDS);

    // Act
    const second = await cache.getUserSig(rotated);

    // Assess
    expect(signer.calls()).toBe(2);
    expect(verifyUserSig(first, rotated, clock.now() / 1000).ok).toBe(false);
    expect(verifyUserSig(second, rotated, clock.now() / 1000).ok).toBe(true);
  });

  it('reuses the UserSig for equal credentials in a new object', async () => {
    // Prepare
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: fakeClock().now, sign: signer.sign });
    const first = await cache.getUserSig(CREDS);

    // Act
    const second = await cache.getUserSig({ ...CREDS });

    // Assess
    expect(second).toBe(first);
    expect(signer.calls()).toBe(1);
  });

  it('signs anew after invalidate()', async () => {
    // Prepare
    const clock = fakeClock();
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign });
    await cache.getUserSig(CREDS);

    // Act
    cache.invalidate();
    clock.advance(1000); // a new second, so the new UserSig differs from the old one
    const second = await cache.getUserSig(CREDS);

    // Assess
    expect(signer.calls()).toBe(2);
    expect(decodeUserSig(second)?.time).toBe(clock.now() / 1000);
  });

  it('does not let a signing started before invalidate() fill the cache', async () => {
    // Prepare
    const signer = heldSigner();
    const cache = new AdminSigCache({ now: fakeClock().now, sign: signer.sign });
    const stale = cache.getUserSig(CREDS);
    await Promise.resolve();

    // Act
    cache.invalidate();
    const fresh = cache.getUserSig(CREDS);
    await Promise.resolve();
    signer.release({ newestFirst: true });
    await Promise.all([stale, fresh]);
    const after = await cache.getUserSig(CREDS);

    // Assess
    expect(signer.calls()).toBe(2);
    expect(after).toBe(await fresh);
  });

  it('does not let a slow signing for old credentials overwrite the rotated ones', async () => {
    // Prepare
    const signer = heldSigner();
    const cache = new AdminSigCache({ now: fakeClock().now, sign: signer.sign });
    const rotated: ImCredentials = { ...CREDS, secretKey: 'secret-key-two' };
    const old = cache.getUserSig(CREDS);
    const fresh = cache.getUserSig(rotated);
    await Promise.resolve();

    // Act
    signer.release({ newestFirst: true });
    await Promise.all([old, fresh]);
    const afterPending = cache.getUserSig(rotated);
    signer.release(); // lets a wrongly started extra signing finish, so the test fails instead of hanging
    const after = await afterPending;

    // Assess
    expect(signer.calls()).toBe(2);
    expect(after).toBe(await fresh);
    expect(verifyUserSig(after, rotated, START_MS / 1000).ok).toBe(true);
  });

  it('rejects every waiter when signing fails, then signs again on the next call', async () => {
    // Prepare
    const signer = heldSigner();
    const cache = new AdminSigCache({ now: fakeClock().now, sign: signer.sign });
    const waiters = Array.from({ length: 10 }, () => cache.getUserSig(CREDS));
    await Promise.resolve();

    // Act
    signer.fail(new Error('signer unavailable'));
    const outcomes = await Promise.allSettled(waiters);
    const retry = cache.getUserSig(CREDS);
    await Promise.resolve();
    signer.release();

    // Assess
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(verifyUserSig(await retry, CREDS, START_MS / 1000).ok).toBe(true);
    expect(signer.calls()).toBe(2);
  });

  it('fails with AdminSigTooSlowError when signing outlasts the lifetime minus the margin', async () => {
    // Prepare
    const clock = fakeClock();
    const slow: UserSigSigner = (key, expire, now) => {
      clock.advance(2 * 1000); // the signer "takes" 2 s, the margin leaves only 1 s
      return signUserSig(key, expire, now);
    };
    const cache = new AdminSigCache({ now: clock.now, sign: slow, expireSeconds: 11, renewBeforeSeconds: 10 });

    // Act
    const result = cache.getUserSig(CREDS);

    // Assess
    await expect(result).rejects.toBeInstanceOf(AdminSigTooSlowError);
    await expect(result).rejects.toMatchObject({ name: 'AdminSigTooSlowError', signingMs: 2000 });
  });

  it.each([
    [{ expireSeconds: 0 }],
    [{ expireSeconds: 1.5 }],
    [{ renewBeforeSeconds: -1 }],
    [{ expireSeconds: 3_600, renewBeforeSeconds: 3_600 }],
  ])('refuses options %o', (options) => {
    // Prepare
    const create = (): AdminSigCache => new AdminSigCache(options);

    // Act
    // Assess
    expect(create).toThrow(RangeError);
  });
});
