import { EmulatorOptionsError } from './errors.ts';
import type { EmulatorOptions, FaultOptions } from './types.ts';

/** Defaults of every optional {@link EmulatorOptions} field. */
export const emulatorDefaults = {
  attrNames: [] as readonly string[],
  rateLimitPerSecond: 100,
  faults: {} as FaultOptions,
  seed: 1,
  port: 0,
  host: '127.0.0.1',
  lockoutAfterSigFailures: 10,
  partialFailureAccounts: new Set<string>() as ReadonlySet<string>,
  now: Date.now as () => number,
  /** Largest request body read; real calls are at most ~10 KB (100 users × a few attributes). */
  maxBodyBytes: 1024 * 1024,
} as const;

export type ResolvedEmulatorOptions = Required<EmulatorOptions> & { readonly maxBodyBytes: number };

const isNonNegativeInteger = (n: number): boolean => Number.isInteger(n) && n >= 0;

/** Applies defaults and rejects values the emulator cannot honour. */
export function resolveOptions(options: EmulatorOptions): ResolvedEmulatorOptions {
  const d = emulatorDefaults;
  const resolved: ResolvedEmulatorOptions = {
    sdkAppId: options.sdkAppId,
    adminIdentifier: options.adminIdentifier,
    secretKey: options.secretKey,
    attrNames: options.attrNames ?? d.attrNames,
    rateLimitPerSecond: options.rateLimitPerSecond ?? d.rateLimitPerSecond,
    faults: options.faults ?? d.faults,
    seed: options.seed ?? d.seed,
    port: options.port ?? d.port,
    host: options.host ?? d.host,
    lockoutAfterSigFailures: options.lockoutAfterSigFailures ?? d.lockoutAfterSigFailures,
    partialFailureAccounts: options.partialFailureAccounts ?? d.partialFailureAccounts,
    now: options.now ?? d.now,
    maxBodyBytes: d.maxBodyBytes,
  };
  if (!Number.isInteger(resolved.sdkAppId) || resolved.sdkAppId <= 0) {
    throw new EmulatorOptionsError('sdkAppId', resolved.sdkAppId, 'must be a positive integer');
  }
  if (resolved.adminIdentifier.length === 0) throw new EmulatorOptionsError('adminIdentifier', '', 'must not be empty');
  // The key itself is never put in the error: only whether it is missing.
  if (resolved.secretKey.length === 0) throw new EmulatorOptionsError('secretKey', '(empty)', 'must not be empty');
  if (!isNonNegativeInteger(resolved.rateLimitPerSecond)) {
    throw new EmulatorOptionsError('rateLimitPerSecond', resolved.rateLimitPerSecond, 'must be a non-negative integer');
  }
  if (!isNonNegativeInteger(resolved.lockoutAfterSigFailures)) {
    throw new EmulatorOptionsError(
      'lockoutAfterSigFailures',
      resolved.lockoutAfterSigFailures,
      'must be a non-negative integer',
    );
  }
  if (!isNonNegativeInteger(resolved.port) || resolved.port > 65535)
    throw new EmulatorOptionsError('port', resolved.port, 'must be 0..65535');
  return resolved;
}
