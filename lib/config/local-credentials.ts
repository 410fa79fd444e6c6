/**
 * The fixed secret key a local run and a stand-alone emulator use when TIM_SECRET_KEY is unset.
 * For local runs only: it is public, so it protects nothing.
 */
export const DEV_SECRET_KEY = 'local-dev-only-5bd2850fff3ecb11d7c805251c51ee46';

/**
 * Credentials of a local run: they sign UserSigs for the local IM emulator and webhooks for the local
 * API. They are public development values, printed at start; a deployed stage reads its own from
 * Secrets Manager.
 */
export const localCredentialDefaults = {
  TIM_SDKAPPID: '1400000000',
  TIM_IDENTIFIER: 'administrator',
  // The emulator's own default, so a stand-alone emulator (`npm run emulator`) accepts the same UserSigs.
  TIM_SECRET_KEY: DEV_SECRET_KEY,
  WEBHOOK_SECRET: 'whsec_TZI4m/PT3Cwf4sNIwYYrvqyJhdNo4iIY3IxCoJENZPY=',
} as const;

export type LocalCredentialName = keyof typeof localCredentialDefaults;

/** The local credentials: each from the environment when set there, else its default. */
export function localCredentials(
  env: Readonly<Record<string, string | undefined>>,
): Record<LocalCredentialName, string> {
  const pick = (name: LocalCredentialName): string => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? localCredentialDefaults[name] : value;
  };
  return {
    TIM_SDKAPPID: pick('TIM_SDKAPPID'),
    TIM_IDENTIFIER: pick('TIM_IDENTIFIER'),
    TIM_SECRET_KEY: pick('TIM_SECRET_KEY'),
    WEBHOOK_SECRET: pick('WEBHOOK_SECRET'),
  };
}

/**
 * What may be printed about a credential: a built-in development default is public and printed as is;
 * a value taken from the environment may be real and is never shown.
 */
export function printableCredential(name: LocalCredentialName, value: string): string {
  return value === localCredentialDefaults[name] ? value : '(from the environment; not shown)';
}
