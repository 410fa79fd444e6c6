import { deflateRawSync, deflateSync, gzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signUserSig, verifyUserSig } from '../../lib/usersig/user-sig.ts';
import type { SigningKey, UserSigFields } from '../../lib/usersig/user-sig.ts';
import { officialSigner } from './official-signer.ts';

// Reference vector: the sample app and key of Tencent's tls-sig-api-v2 examples, signed for 180 days at a fixed time.
const VECTOR = {
  key: {
    sdkAppId: 1400000000,
    identifier: 'xiaojun',
    secretKey: '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e',
  },
  time: 1700000000,
  expire: 15552000,
  sig: 'LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=',
} as const;
const KEY: SigningKey = VECTOR.key;

/** Encodes bytes the way a UserSig is: standard Base64, then `+`→`*`, `/`→`-`, `=`→`_`. */
const toSigAlphabet = (bytes: Buffer): string =>
  bytes.toString('base64').replaceAll('+', '*').replaceAll('/', '-').replaceAll('=', '_');
const fromSigAlphabet = (s: string): string => s.replaceAll('*', '+').replaceAll('-', '/').replaceAll('_', '=');
/** A UserSig around any JSON document, for hand-made (tampered, odd) inputs. */
const encodeDoc = (doc: unknown): string => toSigAlphabet(deflateSync(Buffer.from(JSON.stringify(doc))));
const vectorDoc = (): Record<string, unknown> => ({
  'TLS.ver': '2.0',
  'TLS.identifier': VECTOR.key.identifier,
  'TLS.sdkappid': VECTOR.key.sdkAppId,
  'TLS.expire': VECTOR.expire,
  'TLS.time': VECTOR.time,
  'TLS.sig': VECTOR.sig,
});

/** The fields of a UserSig that verifies for `key` at `nowSeconds`; throws when it does not. */
function verifiedFields(userSig: string, key: SigningKey = KEY, nowSeconds: number = VECTOR.time): UserSigFields {
  const result = verifyUserSig(userSig, key, nowSeconds);
  if (!result.ok) throw new Error(`UserSig does not verify: ${result.reason}`);
  return result.fields;
}

/** Runs the official signer with its clock set to `timeSeconds`. */
function officialSignAt(key: SigningKey, expire: number, timeSeconds: number): string {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(timeSeconds * 1000);
  try {
    return officialSigner(key.sdkAppId, key.secretKey).genUserSig(key.identifier, expire);
  } finally {
    vi.useRealTimers();
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('UserSig v2: reference vector', () => {
  it('accepts the reference TLS.sig: its HMAC is computed as the reference does', () => {
    // Prepare
    const userSig = encodeDoc(vectorDoc());

    // Act
    const result = verifyUserSig(userSig, KEY, VECTOR.time);

    // Assess
    expect(result.ok).toBe(true);
  });

  it('signUserSig yields the reference fields', () => {
    // Prepare
    const userSig = signUserSig(KEY, VECTOR.expire, VECTOR.time);

    // Act
    const fields = verifiedFields(userSig);

    // Assess
    expect(fields).toEqual({
      version: '2.0',
      identifier: 'xiaojun',
      sdkAppId: 1400000000,
      time: VECTOR.time,
      expire: VECTOR.expire,
      sig: VECTOR.sig,
    });
  });

  it('the official package signs the same TLS.sig for the vector', () => {
    // Prepare
    const official = officialSignAt(KEY, VECTOR.expire, VECTOR.time);

    // Act
    const fields = verifiedFields(official);

    // Assess
    expect(fields.sig).toBe(VECTOR.sig);
  });
});

describe('UserSig v2: interoperability with tls-sig-api-v2', () => {
  it('a UserSig of the official package verifies with ours and decodes to the same fields', () => {
    // Prepare
    const time = 1_710_000_123;
    const official = officialSignAt(KEY, 86_400, time);

    // Act
    const result = verifyUserSig(official, KEY, time + 60);

    // Assess
    expect(result).toEqual({ ok: true, fields: verifiedFields(signUserSig(KEY, 86_400, time), KEY, time) });
  });

  it('official and ours agree on TLS.sig and verify for arbitrary apps, accounts, keys and times', () => {
    // Prepare
    const inputs = fc.sample(
      fc.record({
        sdkAppId: fc.integer({ min: 1, max: 0xffffffff }),
        identifier: fc.string({ minLength: 1, maxLength: 32, unit: 'grapheme' }),
        secretKey: fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }),
        time: fc.integer({ min: 0, max: 4_000_000_000 }),
        expire: fc.integer({ min: 1, max: 400 * 86_400 }),
      }),
      { seed: 20240601, numRuns: 200 },
    );

    // Act
    const outcomes = inputs.map(({ time, expire, ...key }) => {
      const official = officialSignAt(key, expire, time);
      const ours = signUserSig(key, expire, time);
      return {
        official: verifyUserSig(official, key, time + expire),
        ours: verifyUserSig(ours, key, time + expire),
      };
    });

    // Assess
    for (const outcome of outcomes) {
      // Both verify and decode to the same fields.
      expect(outcome.official.ok).toBe(true);
      expect(outcome.ours).toEqual(outcome.official);
    }
  });
});

describe('UserSig v2: verification', () => {
  it('accepts up to and including time + expire, rejects one second later as expired', () => {
    // Prepare
    const userSig = signUserSig(KEY, 100, VECTOR.time);

    // Act
    const atLimit = verifyUserSig(userSig, KEY, VECTOR.time + 100);
    const after = verifyUserSig(userSig, KEY, VECTOR.time + 101);

    // Assess
    expect(atLimit.ok).toBe(true);
    expect(after).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects a UserSig signed with another key as bad-signature', () => {
    // Prepare
    const userSig = signUserSig({ ...KEY, secretKey: 'rotated-secret' }, 86_400, VECTOR.time);

    // Act
    const result = verifyUserSig(userSig, KEY, VECTOR.time);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a UserSig of another account as wrong-identifier', () => {
    // Prepare
    const userSig = signUserSig({ ...KEY, identifier: 'administrator' }, 86_400, VECTOR.time);

    // Act
    const result = verifyUserSig(userSig, KEY, VECTOR.time);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'wrong-identifier' });
  });

  it('rejects a UserSig of another app as wrong-sdkappid', () => {
    // Prepare
    const userSig = signUserSig({ ...KEY, sdkAppId: KEY.sdkAppId + 1 }, 86_400, VECTOR.time);

    // Act
    const result = verifyUserSig(userSig, KEY, VECTOR.time);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'wrong-sdkappid' });
  });

  it.each([
    ['a later time', { 'TLS.time': VECTOR.time + 1 }],
    ['a longer expire', { 'TLS.expire': VECTOR.expire * 2 }],
    ['a truncated sig', { 'TLS.sig': VECTOR.sig.slice(0, -4) }],
  ])('rejects a tampered UserSig (%s) as bad-signature', (_label, change) => {
    // Prepare
    const userSig = encodeDoc({ ...vectorDoc(), ...change });

    // Act
    const result = verifyUserSig(userSig, KEY, VECTOR.time);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('accepts numbers written as strings, as some signers do', () => {
    // Prepare
    const userSig = encodeDoc({
      ...vectorDoc(),
      'TLS.sdkappid': String(VECTOR.key.sdkAppId),
      'TLS.time': String(VECTOR.time),
    });

    // Act
    const result = verifyUserSig(userSig, KEY, VECTOR.time);

    // Assess
    expect(result.ok).toBe(true);
  });
});

describe('UserSig v2: malformed input', () => {
  const doc = JSON.stringify(vectorDoc());
  const cases: readonly (readonly [string, string])[] = [
    ['garbage', 'this is not a UserSig!'],
    ['empty', ''],
    ['huge', 'eJ'.repeat(1_000_000)],
    ['valid base64 but not zlib', toSigAlphabet(Buffer.from('hello, this is plain text'))],
    ['zlib but not JSON', toSigAlphabet(deflateSync(Buffer.from('not { json')))],
    ['zlib JSON but an array', encodeDoc([1, 2, 3])],
    ['zlib JSON but null', encodeDoc(null)],
    ['a field missing', encodeDoc({ ...vectorDoc(), 'TLS.sig': undefined })],
    ['a fractional time', encodeDoc({ ...vectorDoc(), 'TLS.time': VECTOR.time + 0.5 })],
    ['a negative expire', encodeDoc({ ...vectorDoc(), 'TLS.expire': -1 })],
    [
      'an infinite expire',
      toSigAlphabet(deflateSync(Buffer.from(doc.replace(`"TLS.expire":${VECTOR.expire}`, '"TLS.expire":1e999')))),
    ],
    ['raw deflate instead of zlib', toSigAlphabet(deflateRawSync(Buffer.from(doc)))],
    ['gzip instead of zlib', toSigAlphabet(gzipSync(Buffer.from(doc)))],
    ['a zlib bomb', toSigAlphabet(deflateSync(Buffer.from(`{"pad":"${' '.repeat(1_000_000)}"}`)))],
  ];

  it.each(cases)('rejects %s as malformed', (_label, userSig) => {
    // Prepare
    const startedAt = performance.now();

    // Act
    const result = verifyUserSig(userSig, KEY, VECTOR.time);

    // Assess
    expect(result).toEqual({ ok: false, reason: 'malformed' });
    expect(performance.now() - startedAt).toBeLessThan(100);
  });
});

describe('UserSig v2: alphabet', () => {
  it('maps +, / and = to *, - and _ and round-trips them', () => {
    // Prepare: find a UserSig whose Base64 holds all three characters (deterministic: the time is the only input that varies)
    let userSig = '';
    for (let time = VECTOR.time; time < VECTOR.time + 10_000; time++) {
      userSig = signUserSig(KEY, 86_400, time);
      if (userSig.includes('*') && userSig.includes('-') && userSig.includes('_')) break;
    }

    // Act
    const standard = fromSigAlphabet(userSig);
    const doc: unknown = JSON.parse(inflateSync(Buffer.from(standard, 'base64')).toString('utf8'));
    const fields = verifiedFields(userSig);

    // Assess
    expect(userSig).toMatch(/^[A-Za-z0-9*\-_]+$/);
    expect(userSig).toMatch(/\*/);
    expect(userSig).toMatch(/-/);
    expect(userSig).toMatch(/_/);
    expect(standard).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(toSigAlphabet(Buffer.from(standard, 'base64'))).toBe(userSig);
    expect(doc).toMatchObject({ 'TLS.sig': fields.sig, 'TLS.time': fields.time });
  });
});

describe('UserSig v2: signing input', () => {
  it.each([
    ['a fractional time', 86_400, 1_700_000_000.5],
    ['a negative time', 86_400, -1],
    ['a zero expire', 0, VECTOR.time],
    ['a fractional expire', 1.5, VECTOR.time],
  ])('refuses %s', (_label, expire, time) => {
    // Prepare
    const sign = (): string => signUserSig(KEY, expire, time);

    // Act
    // Assess
    expect(sign).toThrow(RangeError);
  });
});
