/**
 * Tencent Cloud IM emulator (`v4/all_member_push` attribute API) for integration tests and benchmarks.
 */
export { startEmulator } from './server.ts';
export type { Emulator, EmulatorCounters, EmulatorOptions, FaultOptions } from './types.ts';
export { EmulatorOptionsError } from './errors.ts';
export { ImErrorCode } from './error-codes.ts';
export { mulberry32 } from './prng.ts';
export { emulatorDefaults } from './options.ts';
export { DEV_SECRET_KEY, readEmulatorEnv } from './env-config.ts';
export type { EmulatorEnvConfig } from './env-config.ts';
