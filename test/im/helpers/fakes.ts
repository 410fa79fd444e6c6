/** Test doubles for the IM client: a credential source and a UserSig provider that count their use. */
import type { CredentialSource, ImCredentials } from '../../../lib/credentials/types.ts';
import type { UserSigProvider } from '../../../lib/usersig/sig-provider.ts';
import { AdminSigCache } from '../../../lib/usersig/admin-sig-cache.ts';

export const appKey: ImCredentials = {
  sdkAppId: 1400000123,
  identifier: 'administrator',
  secretKey: 'client-test-secret',
};
export const rotatedKey: ImCredentials = { ...appKey, secretKey: 'client-test-secret-rotated' };

export interface CountingCredentials extends CredentialSource {
  readonly calls: { get: number; refresh: number };
}

/** `get()` answers `current`; `refresh()` moves to the next of `onRefresh` (or stays) and answers it. */
export function countingCredentials(
  current: ImCredentials,
  onRefresh: readonly ImCredentials[] = [],
): CountingCredentials {
  const calls = { get: 0, refresh: 0 };
  let now = current;
  return {
    calls,
    get: () => {
      calls.get += 1;
      return Promise.resolve(now);
    },
    refresh: () => {
      now = onRefresh[calls.refresh] ?? now;
      calls.refresh += 1;
      return Promise.resolve(now);
    },
  };
}

export interface CountingSigProvider extends UserSigProvider {
  readonly calls: { getUserSig: number; invalidate: number };
}

/** The real {@link AdminSigCache}, counting its use. */
export function countingSigProvider(): CountingSigProvider {
  const inner = new AdminSigCache();
  const calls = { getUserSig: 0, invalidate: 0 };
  return {
    calls,
    getUserSig: (creds) => {
      calls.getUserSig += 1;
      return inner.getUserSig(creds);
    },
    invalidate: () => {
      calls.invalidate += 1;
      inner.invalidate();
    },
  };
}
