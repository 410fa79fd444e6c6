/**
 * The client against the IM emulator over real HTTP: faults are retried until every user is applied,
 * and a paced client is never rate-limited by the emulator's 100 calls/s window.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ImClient } from '../../lib/im/client.ts';
import { startEmulator } from '../../local/emulator/index.ts';
import type { Emulator } from '../../local/emulator/index.ts';
import { appKey, countingCredentials } from './helpers/fakes.ts';
import { ownPacers } from '../../lib/pacing/pacer-for.ts';

const RATE_LIMITED = 60007;

let emulator: Emulator | undefined;
let client: ImClient | undefined;

afterEach(async () => {
  client?.close();
  await emulator?.close();
  client = undefined;
  emulator = undefined;
});

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

const usersFor = (count: number, tag: string) =>
  Array.from({ length: count }, (_, i) => ({
    To_Account: `user-${i}`,
    Attrs: { city: `${tag}-${i}`, sex: i % 2 === 0 ? 'f' : 'm' },
  }));

describe('ImClient against the emulator', () => {
  it('applies every user of a few thousand despite ~10% of each retryable fault', async () => {
    // Prepare
    emulator = await startEmulator({
      sdkAppId: appKey.sdkAppId,
      adminIdentifier: appKey.identifier,
      secretKey: appKey.secretKey,
      attrNames: ['sex', 'city'],
      faults: { p91000: 0.1, p70169: 0.1, p60008: 0.1, pRateLimit: 0.1, pHttp502: 0.1, pReset: 0.1 },
      seed: 42,
    });
    const users = usersFor(3000, 'faulty');
    // Six fault kinds at 10% each fail 60% of calls: allow more attempts, with short backoffs to keep the test fast.
    client = new ImClient({
      baseUrl: emulator.url,
      credentials: countingCredentials(appKey),
      pacerFor: ownPacers(),
      retry: { maxAttempts: 25, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 60_000, random: () => 0.5 },
    });
    const current = client;

    // Act
    const outcomes = await Promise.all(chunksOf(users, 100).map((chunk) => current.setAttr(chunk)));

    // Assess
    expect(outcomes.flatMap((o) => o.failedUsers)).toEqual([]);
    for (const user of users) expect(emulator.attrs.get(user.To_Account)).toEqual(user.Attrs);
    expect(emulator.counters.resets).toBeGreaterThan(0);
    expect(emulator.counters.http502).toBeGreaterThan(0);
    expect(emulator.counters.rejectedByCode.get(91000)).toBeGreaterThan(0);
    expect(emulator.counters.rejectedByCode.get(RATE_LIMITED)).toBeGreaterThan(0);
  });

  it('is never rate-limited by the emulator when paced at the default 100 calls/s', async () => {
    // Prepare
    emulator = await startEmulator({
      sdkAppId: appKey.sdkAppId,
      adminIdentifier: appKey.identifier,
      secretKey: appKey.secretKey,
      attrNames: ['sex', 'city'],
      rateLimitPerSecond: 100,
      faults: { latencyMs: [5, 25] },
    });
    const chunks = chunksOf(usersFor(25_000, 'paced'), 100);
    client = new ImClient({
      baseUrl: emulator.url,
      credentials: countingCredentials(appKey),
      pacerFor: ownPacers(),
    });
    const current = client;

    // Act
    await Promise.all(chunks.map((chunk) => current.setAttr(chunk)));

    // Assess
    expect(emulator.counters.rejectedByCode.get(RATE_LIMITED) ?? 0).toBe(0);
    expect(emulator.counters.maxCallsInAnyWindow).toBeLessThanOrEqual(100);
    expect(emulator.counters.usersApplied).toBe(25_000);
    expect(emulator.counters.callsByCommand.get('im_set_attr')).toBe(chunks.length);
  });
});

describe('ImClient: the tag commands against the emulator', () => {
  it('adds, removes and removes all tags, reads them back, and reports an unknown account on its own', async () => {
    // Prepare
    emulator = await startEmulator({
      sdkAppId: appKey.sdkAppId,
      adminIdentifier: appKey.identifier,
      secretKey: appKey.secretKey,
      attrNames: ['city'],
      partialFailureAccounts: new Set(['ghost']),
    });
    client = new ImClient({ baseUrl: emulator.url, credentials: countingCredentials(appKey), pacerFor: ownPacers() });

    // Act
    const added = await client.addTags([
      { To_Account: 'u1', Tags: ['vip', 'beta'] },
      { To_Account: 'u2', Tags: ['vip'] },
      { To_Account: 'ghost', Tags: ['vip'] },
    ]);
    await client.removeTags([{ To_Account: 'u1', Tags: ['beta'] }]);
    await client.removeAllTags(['u2']);
    const read = await client.getTags(['u1', 'u2']);

    // Assess
    expect(added.failedUsers).toEqual([{ To_Account: 'ghost', errorCode: 70107, errorClass: 'permanent' }]);
    expect(read).toEqual([
      { To_Account: 'u1', Tags: ['vip'] },
      { To_Account: 'u2', Tags: [] },
    ]);
    expect(emulator.counters.callsByCommand.get('im_add_tag')).toBe(1);
  });
});
