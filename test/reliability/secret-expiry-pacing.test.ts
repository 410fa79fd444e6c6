/**
 * Two copies on one fleet grid read a slow secret that expires every second: calls must never wait for the
 * read after taking their slot, or the calls granted during the read leave together and pass IM's limit.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetPacer } from '../../lib/pacing/fleet-pacer.ts';
import { SecretsManagerSource } from '../../lib/credentials/secrets-manager-source.ts';
import { ImClient } from '../../lib/im/client.ts';
import { InMemorySlotLedger } from '../pacing/in-memory-ledger.ts';
import { startEmulator, type Emulator } from '../../local/emulator/index.ts';
import { appKey } from '../im/helpers/fakes.ts';
import { memoPacers } from '../../lib/pacing/pacer-for.ts';

const READ_MS = 150;
const GRID_RATE = 97;

let emulator: Emulator | undefined;
const sm = mockClient(SecretsManagerClient);
afterEach(async () => {
  sm.reset();
  await emulator?.close();
});

describe('a slow secret read at every cache expiry', () => {
  it(
    'never lets more than IM allows arrive in any 1 s window, with two copies on a 97/s grid',
    { timeout: 30_000 },
    async () => {
      // Prepare: every GetSecretValue takes 150 ms; the cache lives 1 s, so reads fall due again and again
      emulator = await startEmulator({
        sdkAppId: appKey.sdkAppId,
        adminIdentifier: appKey.identifier,
        secretKey: appKey.secretKey,
        attrNames: ['city'],
      });
      sm.on(GetSecretValueCommand).callsFake(async () => {
        await new Promise((resolve) => setTimeout(resolve, READ_MS));
        return {
          SecretString: JSON.stringify({
            sdkAppId: appKey.sdkAppId,
            identifier: appKey.identifier,
            secretKey: appKey.secretKey,
          }),
        };
      });
      const ledger = new InMemorySlotLedger();
      const copies = [0, 1].map(
        () =>
          new ImClient({
            baseUrl: emulator?.url ?? '',
            credentials: new SecretsManagerSource({
              client: new SecretsManagerClient({ region: 'ap-southeast-1' }),
              secretId: 's',
              cacheTtlSeconds: 1,
            }),
            pacerFor: memoPacers(
              (command) => new FleetPacer({ command, ledger, gridRate: GRID_RATE, floor: undefined }),
            ),
          }),
      );

      // Act: each copy keeps 24 calls going for about 4 s
      const until = Date.now() + 4_000;
      await Promise.all(
        copies.flatMap((client, c) =>
          Array.from({ length: 24 }, async (_, w) => {
            for (let i = 0; Date.now() < until; i++)
              await client.setAttr([{ To_Account: `c${c}-w${w}`, Attrs: { city: String(i) } }]);
          }),
        ),
      );
      for (const client of copies) client.close();

      // Assess
      const reads = sm.commandCalls(GetSecretValueCommand).length;
      const limited =
        (emulator.counters.rejectedByCode.get(60011) ?? 0) + (emulator.counters.rejectedByCode.get(60007) ?? 0);
      process.stdout.write(
        `secret expiry: ${emulator.counters.calls} calls, ${reads} secret reads, at most ${emulator.counters.maxCallsInAnyWindow} in any 1 s, ${limited} rate-limited\n`,
      );
      expect(reads).toBeGreaterThanOrEqual(6);
      expect(emulator.counters.calls).toBeGreaterThan(300);
      expect(emulator.counters.maxCallsInAnyWindow).toBeLessThanOrEqual(100);
      expect(limited).toBe(0);
    },
  );
});
