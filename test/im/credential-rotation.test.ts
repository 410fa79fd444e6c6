import { describe, expect, it } from 'vitest';
import type { CredentialSource, ImCredentials } from '../../lib/credentials/types.ts';
import { CredentialRotation } from '../../lib/im/credential-rotation.ts';
import { appKey, countingCredentials, rotatedKey } from './helpers/fakes.ts';

const T0 = 1_700_000_000_000;

/** A source whose `refresh()` resolves only when `finish` is called, to hold a re-read under way. */
function heldSource(next: ImCredentials): CredentialSource & { finish: () => void; refreshes: () => number } {
  let refreshes = 0;
  let current = appKey;
  const pending: (() => void)[] = [];
  return {
    get: () => Promise.resolve(current),
    refresh: () => {
      refreshes += 1;
      return new Promise<ImCredentials>((resolve) =>
        pending.push(() => {
          current = next;
          resolve(next);
        }),
      );
    },
    finish: () => pending.splice(0).forEach((resolve) => resolve()),
    refreshes: () => refreshes,
  };
}

describe('CredentialRotation', () => {
  it('retries with the re-read credentials when they changed, and fails when they did not', async () => {
    // Prepare
    const changed = new CredentialRotation(countingCredentials(appKey, [rotatedKey]), () => T0);
    const unchanged = new CredentialRotation(countingCredentials(appKey), () => T0);

    // Act
    const afterRotation = await changed.decideAfterSignatureWrong(appKey, 0);
    const wrongKey = await unchanged.decideAfterSignatureWrong(appKey, 0);

    // Assess
    expect(afterRotation).toEqual({ kind: 'retry', creds: rotatedKey });
    expect(wrongKey).toEqual({ kind: 'fail' });
  });

  it('fails at once, without reading again, while a re-read moments ago confirmed the same credentials; reads again after the window', async () => {
    // Prepare
    let now = T0;
    const credentials = countingCredentials(appKey);
    const rotation = new CredentialRotation(credentials, () => now);
    const first = await rotation.forAttempt();
    await rotation.decideAfterSignatureWrong(first.creds, first.generation);
    const later = await rotation.forAttempt();

    // Act
    const withinWindow = await rotation.decideAfterSignatureWrong(later.creds, later.generation);
    const readsWithin = credentials.calls.refresh;
    now += 30_000;
    const afterWindow = await rotation.decideAfterSignatureWrong(later.creds, later.generation);

    // Assess
    expect(withinWindow).toEqual({ kind: 'fail' });
    expect(readsWithin).toBe(1);
    expect(afterWindow).toEqual({ kind: 'fail' });
    expect(credentials.calls.refresh).toBe(2);
  });

  it('shares one re-read among failures of attempts read before it started', async () => {
    // Prepare
    const source = heldSource(rotatedKey);
    const rotation = new CredentialRotation(source, () => T0);
    const attempts = await Promise.all(Array.from({ length: 5 }, () => rotation.forAttempt()));

    // Act
    const decisions = attempts.map((a) => rotation.decideAfterSignatureWrong(a.creds, a.generation));
    source.finish();

    // Assess
    expect(await Promise.all(decisions)).toEqual(
      Array.from({ length: 5 }, () => ({ kind: 'retry', creds: rotatedKey })),
    );
    expect(source.refreshes()).toBe(1);
  });

  it('makes new attempts wait for a re-read under way, then hands out its result', async () => {
    // Prepare
    const source = heldSource(rotatedKey);
    const rotation = new CredentialRotation(source, () => T0);
    const refused = await rotation.forAttempt();
    const decision = rotation.decideAfterSignatureWrong(refused.creds, refused.generation);

    // Act
    let handedOut: ImCredentials | undefined;
    const next = rotation.forAttempt().then((a) => (handedOut = a.creds));
    await new Promise((resolve) => setImmediate(resolve));
    const whileReading = handedOut;
    source.finish();
    await Promise.all([decision, next]);

    // Assess
    expect(whileReading).toBeUndefined();
    expect(handedOut).toEqual(rotatedKey);
  });

  it('hands out pinned credentials without waiting', async () => {
    // Prepare
    const source = heldSource(rotatedKey);
    const rotation = new CredentialRotation(source, () => T0);
    const refused = await rotation.forAttempt();
    const decision = rotation.decideAfterSignatureWrong(refused.creds, refused.generation);

    // Act
    const pinned = await rotation.forAttempt(rotatedKey);
    source.finish();
    await decision;

    // Assess
    expect(pinned.creds).toBe(rotatedKey);
  });

  it('fails with the re-read error when the re-read fails, and lets new attempts go on', async () => {
    // Prepare
    const failure = new Error('secret unreadable');
    const source: CredentialSource = { get: () => Promise.resolve(appKey), refresh: () => Promise.reject(failure) };
    const rotation = new CredentialRotation(source, () => T0);

    // Act
    const decision = await rotation.decideAfterSignatureWrong(appKey, 0);
    const next = await rotation.forAttempt();

    // Assess
    expect(decision).toEqual({ kind: 'fail', rereadError: failure });
    expect(next.creds).toBe(appKey);
  });
});
