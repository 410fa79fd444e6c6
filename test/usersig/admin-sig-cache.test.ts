import { describe, expect, it } from 'vitest';
import type { ImCredentials } from '../../lib/credentials/types.ts';
import { AdminSigCache } from '../../lib/usersig/admin-sig-cache.ts';
import type { UserSigSigner } from '../../lib/usersig/admin-sig-cache.ts';
import { signUserSig, verifyUserSig } from '../../lib/usersig/user-sig.ts';
import type { UserSigFields } from '../../lib/usersig/user-sig.ts';

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

/** The fields of a UserSig that verifies for `creds` at `nowMs`; throws when it does not. */
function verifiedFields(userSig: string, nowMs: number, creds: ImCredentials = CREDS): UserSigFields {
  const result = verifyUserSig(userSig, creds, Math.floor(nowMs / 1000));
  if (!result.ok) throw new Error(`UserSig does not verify: ${result.reason}`);
  return result.fields;
}

describe('AdminSigCache', () => {
  it('signs once for a thousand calls (signing is synchronous, so concurrent callers cannot interleave), and all get the same valid UserSig', () => {
    // Prepare
    const clock = fakeClock();
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign });

    // Act
    const sigs = Array.from({ length: 1000 }, () => cache.getUserSig(CREDS));

    // Assess
    expect(signer.calls()).toBe(1);
    expect(new Set(sigs).size).toBe(1);
    expect(verifyUserSig(sigs[0] ?? '', CREDS, clock.now() / 1000).ok).toBe(true);
  });

  it('signs with the default lifetime of 24 h', () => {
    // Prepare
    const clock = fakeClock();
    const cache = new AdminSigCache({ now: clock.now });

    // Act
    const fields = verifiedFields(cache.getUserSig(CREDS), clock.now());

    // Assess
    expect(fields).toMatchObject({ expire: 86_400, time: clock.now() / 1000 });
  });

  it('reuses the UserSig until less than the margin remains, then signs a new one', () => {
    // Prepare
    const clock = fakeClock();
    const signer = countingSigner();
    const cache = new AdminSigCache({
      now: clock.now,
      sign: signer.sign,
      expireSeconds: 86_400,
      renewBeforeSeconds: 3_600,
    });
    const first = cache.getUserSig(CREDS);

    // Act
    clock.advance(23 * 60 * MINUTE_MS - 1);
    const beforeMargin = cache.getUserSig(CREDS);
    clock.advance(1);
    const atMargin = cache.getUserSig(CREDS);

    // Assess
    expect(beforeMargin).toBe(first);
    expect(atMargin).not.toBe(first);
    expect(signer.calls()).toBe(2);
    expect(verifiedFields(atMargin, clock.now()).time).toBe(clock.now() / 1000);
  });

  it('never returns a UserSig with less than the margin left over 10 days in 10-minute steps', () => {
    // Prepare
    const clock = fakeClock(START_MS + 123_456); // not on a whole second: the UserSig's time is rounded down
    const signer = countingSigner();
    const renewBeforeSeconds = 3_600;
    const expireSeconds = 86_400;
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign, expireSeconds, renewBeforeSeconds });
    const observations: { nowMs: number; userSig: string }[] = [];

    // Act
    for (let elapsed = 0; elapsed <= 10 * DAY_MS; elapsed += 10 * MINUTE_MS) {
      observations.push({ nowMs: clock.now(), userSig: cache.getUserSig(CREDS) });
      clock.advance(10 * MINUTE_MS);
    }

    // Assess
    for (const { nowMs, userSig } of observations) {
      const fields = verifiedFields(userSig, nowMs);
      expect(fields.time + fields.expire - nowMs / 1000).toBeGreaterThan(renewBeforeSeconds);
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
  ])('signs anew when the %s changes', (_label, change) => {
    // Prepare
    const clock = fakeClock();
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign });
    const rotated: ImCredentials = { ...CREDS, ...change };
    const first = cache.getUserSig(CREDS);

    // Act
    const second = cache.getUserSig(rotated);

    // Assess
    expect(signer.calls()).toBe(2);
    expect(verifyUserSig(first, rotated, clock.now() / 1000).ok).toBe(false);
    expect(verifyUserSig(second, rotated, clock.now() / 1000).ok).toBe(true);
  });

  it('reuses the UserSig for equal credentials in a new object', () => {
    // Prepare
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: fakeClock().now, sign: signer.sign });
    const first = cache.getUserSig(CREDS);

    // Act
    const second = cache.getUserSig({ ...CREDS });

    // Assess
    expect(second).toBe(first);
    expect(signer.calls()).toBe(1);
  });

  it('signs anew after invalidate()', () => {
    // Prepare
    const clock = fakeClock();
    const signer = countingSigner();
    const cache = new AdminSigCache({ now: clock.now, sign: signer.sign });
    cache.getUserSig(CREDS);

    // Act
    cache.invalidate();
    clock.advance(1000); // a new second, so the new UserSig differs from the old one
    const second = cache.getUserSig(CREDS);

    // Assess
    expect(signer.calls()).toBe(2);
    expect(verifiedFields(second, clock.now()).time).toBe(clock.now() / 1000);
  });

  it('throws when signing fails, caches nothing, and signs again on the next call', () => {
    // Prepare
    const signer = countingSigner();
    let failing = true;
    const flaky: UserSigSigner = (key, expire, now) => {
      if (failing) throw new Error('signer unavailable');
      return signer.sign(key, expire, now);
    };
    const cache = new AdminSigCache({ now: fakeClock().now, sign: flaky });

    // Act
    let failure: unknown;
    try {
      cache.getUserSig(CREDS);
    } catch (error) {
      failure = error;
    }
    failing = false;
    const retry = cache.getUserSig(CREDS);

    // Assess
    expect(failure).toEqual(new Error('signer unavailable'));
    expect(verifyUserSig(retry, CREDS, START_MS / 1000).ok).toBe(true);
    expect(signer.calls()).toBe(1);
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
