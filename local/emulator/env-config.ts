import { EmulatorOptionsError } from './errors.ts';
import type { EmulatorOptions, FaultOptions } from './types.ts';

import { DEV_SECRET_KEY } from '../../lib/config/local-credentials.ts';

export { DEV_SECRET_KEY };

/** Options read from the environment, plus what is safe to print about them. */
export interface EmulatorEnvConfig {
  readonly options: EmulatorOptions & { readonly port: number; readonly host: string };
  /** Whether the built-in {@link DEV_SECRET_KEY} is in use (the key itself is never printed). */
  readonly usesDevSecretKey: boolean;
}

const envDefaults = {
  EMULATOR_PORT: 5080,
  EMULATOR_HOST: '127.0.0.1',
  TIM_SDKAPPID: 1400000000,
  TIM_IDENTIFIER: 'administrator',
  ATTR_NAMES: 'sex,city,tier,lang',
} as const;

/** Fault probability variables and the option each sets. */
const faultProbabilityEnv = {
  FAULT_P91000: 'p91000',
  FAULT_P70169: 'p70169',
  FAULT_P60008: 'p60008',
  FAULT_P_RATE_LIMIT: 'pRateLimit',
  FAULT_P_HTTP502: 'pHttp502',
  FAULT_P_RESET: 'pReset',
  FAULT_P_SLOW: 'pSlow',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

function numberFrom(env: Env, name: string): number | undefined {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new EmulatorOptionsError(name, text, 'must be a number');
  return value;
}

function latencyFrom(env: Env): readonly [number, number] | undefined {
  const text = env['FAULT_LATENCY_MS']?.trim();
  if (text === undefined || text === '') return undefined;
  const parts = text.split(',').map((p) => Number(p.trim()));
  const min = parts[0];
  const max = parts[1] ?? min;
  if (parts.length > 2 || min === undefined || max === undefined || !Number.isFinite(min) || !Number.isFinite(max)) {
    throw new EmulatorOptionsError('FAULT_LATENCY_MS', text, 'must be "min,max" or "ms"');
  }
  return [min, max];
}

/**
 * Reads the stand-alone emulator's settings: EMULATOR_PORT, EMULATOR_HOST, TIM_SDKAPPID, TIM_IDENTIFIER,
 * TIM_SECRET_KEY, ATTR_NAMES (comma-separated), RATE_LIMIT_PER_SECOND, LOCKOUT_AFTER_SIG_FAILURES,
 * FAULT_P91000, FAULT_P70169, FAULT_P60008, FAULT_P_RATE_LIMIT, FAULT_P_HTTP502, FAULT_P_RESET, FAULT_P_SLOW,
 * FAULT_SLOW_MS, FAULT_LATENCY_MS ("min,max") and FAULT_SEED.
 */
export function readEmulatorEnv(env: Env): EmulatorEnvConfig {
  const faults: Record<string, number | readonly [number, number]> = {};
  for (const [name, option] of Object.entries(faultProbabilityEnv)) {
    const p = numberFrom(env, name);
    if (p !== undefined) faults[option] = p;
  }
  const slowMs = numberFrom(env, 'FAULT_SLOW_MS');
  if (slowMs !== undefined) faults['slowMs'] = slowMs;
  const latencyMs = latencyFrom(env);
  if (latencyMs !== undefined) faults['latencyMs'] = latencyMs;

  const secretKey = env['TIM_SECRET_KEY'];
  const usesDevSecretKey = secretKey === undefined || secretKey === '';
  const attrNames = (env['ATTR_NAMES'] ?? envDefaults.ATTR_NAMES)
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);

  return {
    usesDevSecretKey,
    options: {
      port: numberFrom(env, 'EMULATOR_PORT') ?? envDefaults.EMULATOR_PORT,
      host: env['EMULATOR_HOST'] || envDefaults.EMULATOR_HOST,
      sdkAppId: numberFrom(env, 'TIM_SDKAPPID') ?? envDefaults.TIM_SDKAPPID,
      adminIdentifier: env['TIM_IDENTIFIER'] || envDefaults.TIM_IDENTIFIER,
      secretKey: usesDevSecretKey ? DEV_SECRET_KEY : secretKey,
      attrNames,
      rateLimitPerSecond: numberFrom(env, 'RATE_LIMIT_PER_SECOND'),
      lockoutAfterSigFailures: numberFrom(env, 'LOCKOUT_AFTER_SIG_FAILURES'),
      faults: faults as FaultOptions,
      seed: numberFrom(env, 'FAULT_SEED'),
    },
  };
}
