import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEV_SECRET_KEY, readEmulatorEnv } from '../../local/emulator/index.ts';
import { signUserSig } from '../../lib/usersig/user-sig.ts';

describe('readEmulatorEnv', () => {
  it('applies the documented defaults', () => {
    // Act
    const { options, usesDevSecretKey } = readEmulatorEnv({});

    // Assess
    expect(options).toMatchObject({
      port: 5080,
      host: '127.0.0.1',
      sdkAppId: 1400000000,
      adminIdentifier: 'administrator',
      secretKey: DEV_SECRET_KEY,
      attrNames: ['sex', 'city', 'tier', 'lang'],
      faults: {},
    });
    expect(usesDevSecretKey).toBe(true);
  });

  it('reads every setting and fault variable', () => {
    // Act
    const { options, usesDevSecretKey } = readEmulatorEnv({
      EMULATOR_PORT: '6000',
      TIM_SDKAPPID: '1400000555',
      TIM_IDENTIFIER: 'boss',
      TIM_SECRET_KEY: 'k',
      ATTR_NAMES: ' a , b ',
      RATE_LIMIT_PER_SECOND: '50',
      FAULT_P91000: '0.1',
      FAULT_P70169: '0.01',
      FAULT_P60008: '0.02',
      FAULT_P_RATE_LIMIT: '0.03',
      FAULT_P_HTTP502: '0.04',
      FAULT_P_RESET: '0.05',
      FAULT_P_SLOW: '0.06',
      FAULT_SLOW_MS: '7000',
      FAULT_LATENCY_MS: '5,20',
      FAULT_SEED: '9',
    });

    // Assess
    expect(usesDevSecretKey).toBe(false);
    expect(options).toMatchObject({
      port: 6000,
      sdkAppId: 1400000555,
      adminIdentifier: 'boss',
      secretKey: 'k',
      attrNames: ['a', 'b'],
      rateLimitPerSecond: 50,
      seed: 9,
      faults: {
        p91000: 0.1,
        p70169: 0.01,
        p60008: 0.02,
        pRateLimit: 0.03,
        pHttp502: 0.04,
        pReset: 0.05,
        pSlow: 0.06,
        slowMs: 7000,
        latencyMs: [5, 20],
      },
    });
  });

  it('names the variable that is not a number', () => {
    // Act
    const read = () => readEmulatorEnv({ FAULT_P_RESET: 'often' });

    // Assess
    expect(read).toThrow(expect.objectContaining({ name: 'EmulatorOptionsError', option: 'FAULT_P_RESET' }));
  });
});

describe('main.ts', () => {
  it('serves on its own, prints its URL and settings without the secret, and stops on SIGTERM', async () => {
    // Prepare
    const main = fileURLToPath(new URL('../../local/emulator/main.ts', import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, EMULATOR_PORT: '0', TIM_SECRET_KEY: 'main-test-secret', TIM_SDKAPPID: '1400000777' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit').then(() => {
      throw new Error(`main.ts exited early: ${output}`);
    });
    while (!/"seed"/.test(output)) await Promise.race([once(child.stdout, 'data'), exited]);
    const url = /listening on (http:\/\/\S+)/.exec(output)?.[1] ?? '';
    const key = { sdkAppId: 1400000777, identifier: 'administrator', secretKey: 'main-test-secret' };
    const query = `sdkappid=1400000777&identifier=administrator&usersig=${signUserSig(key, 600)}&random=1&contenttype=json`;

    // Act
    const reply = (await (
      await fetch(`${url}/v4/all_member_push/im_get_attr_name?${query}`, { method: 'POST', body: '{}' })
    ).json()) as Record<string, unknown>;
    exited.catch(() => undefined);
    child.kill('SIGTERM');
    const [exitCode] = (await once(child, 'exit')) as [number | null];

    // Assess
    expect(reply).toMatchObject({ ErrorCode: 0, AttrNames: { '0': 'sex', '1': 'city', '2': 'tier', '3': 'lang' } });
    expect(output).toContain('1400000777');
    expect(output).not.toContain('main-test-secret');
    expect(exitCode).toBe(0);
  });
});
