/**
 * Shared fixtures for the emulator tests: an app identity, signed URLs and a tiny IM client over fetch.
 */
import { signUserSig } from '../../lib/usersig/user-sig.ts';
import type { SigningKey } from '../../lib/usersig/user-sig.ts';
import { startEmulator } from '../../local/emulator/index.ts';
import type { Emulator, EmulatorOptions } from '../../local/emulator/index.ts';

export const testApp = {
  sdkAppId: 1400000123,
  identifier: 'administrator',
  secretKey: 'emulator-test-secret',
} as const;
export const testKey: SigningKey = {
  sdkAppId: testApp.sdkAppId,
  identifier: testApp.identifier,
  secretKey: testApp.secretKey,
};
/** A fixed wall clock (ms) for tests that drive the emulator's `now`. */
export const T0 = 1_700_000_000_000;

export type QueryParam = 'sdkappid' | 'identifier' | 'usersig' | 'random' | 'contenttype';

/** Starts an emulator for `testApp` with the attribute names sex, city, tier, lang. */
export function startTestEmulator(overrides: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  return startEmulator({
    sdkAppId: testApp.sdkAppId,
    adminIdentifier: testApp.identifier,
    secretKey: testApp.secretKey,
    attrNames: ['sex', 'city', 'tier', 'lang'],
    ...overrides,
  });
}

/** The query string of a valid call; `overrides` replace (or, with `undefined`, drop) parameters. */
export function signedQuery(
  overrides: Partial<Record<QueryParam, string | undefined>> = {},
  key: SigningKey = testKey,
  nowSeconds?: number,
): string {
  const params: Record<QueryParam, string | undefined> = {
    sdkappid: String(key.sdkAppId),
    identifier: key.identifier,
    usersig: signUserSig(key, 86_400, nowSeconds),
    random: String(Math.floor(Math.random() * 4294967296)),
    contenttype: 'json',
    ...overrides,
  };
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, value);
  return search.toString();
}

export interface ImReply {
  readonly status: number;
  /** The parsed JSON body (undefined when the answer is not JSON, e.g. a 502). */
  readonly json: Record<string, unknown> | undefined;
}

/** Calls `command` with `body` (a string is sent verbatim, anything else as JSON). */
export async function callIm(
  emulator: Emulator,
  command: string,
  body: unknown,
  query: string = signedQuery(),
  init: RequestInit = {},
): Promise<ImReply> {
  const response = await fetch(`${emulator.url}/v4/all_member_push/${command}?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

/** `count` users `u0..` with the given attributes. */
export function users(
  count: number,
  attrs: Record<string, string> = { sex: 'f' },
  prefix = 'u',
): { To_Account: string; Attrs: Record<string, string> }[] {
  return Array.from({ length: count }, (_, i) => ({ To_Account: `${prefix}${i}`, Attrs: { ...attrs } }));
}
