/**
 * Stand-alone IM emulator: `npm run emulator` (or `npx node local/emulator/main.ts`).
 * Settings come from the environment (see readEmulatorEnv); it serves until SIGINT or SIGTERM.
 */
import { readEmulatorEnv } from './env-config.ts';
import { startEmulator } from './server.ts';

const { options, usesDevSecretKey } = readEmulatorEnv(process.env);
const emulator = await startEmulator(options);

// The secret key is never printed: only whether the public development key is in use.
console.log(`IM emulator listening on ${emulator.url}`);
console.log(
  JSON.stringify(
    {
      sdkAppId: options.sdkAppId,
      identifier: options.adminIdentifier,
      secretKey: usesDevSecretKey ? 'built-in development key (DEV_SECRET_KEY)' : 'from TIM_SECRET_KEY',
      attrNames: emulator.attrNames(),
      rateLimitPerSecond: options.rateLimitPerSecond ?? 100,
      lockoutAfterSigFailures: options.lockoutAfterSigFailures ?? 10,
      faults: options.faults,
      seed: options.seed ?? 1,
    },
    null,
    2,
  ),
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(
    `${signal}: stopping; ${emulator.counters.calls} calls served, ${emulator.counters.usersApplied} users applied`,
  );
  await emulator.close();
  process.exit(0);
}
process.on('SIGINT', (signal) => void stop(signal));
process.on('SIGTERM', (signal) => void stop(signal));
