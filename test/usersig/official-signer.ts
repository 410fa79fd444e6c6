/**
 * Tencent's own Node signer (`tls-sig-api-v2`, CommonJS, untyped), typed narrowly: the test oracle for our UserSig code.
 * It reads the clock itself (`Date.now()`), so deterministic tests fake `Date` around it.
 */
import { createRequire } from 'node:module';

/** The part of `tls-sig-api-v2`'s `Api` we use. */
export interface OfficialApi {
  /** A UserSig for `identifier`, valid `expireSeconds` from now. */
  genUserSig(identifier: string, expireSeconds: number): string;
}

interface OfficialModule {
  readonly Api: new (sdkAppId: number, secretKey: string) => OfficialApi;
}

const require = createRequire(import.meta.url);
const official = require('tls-sig-api-v2') as OfficialModule;

/** A signer of the official package for one app and secret key. */
export function officialSigner(sdkAppId: number, secretKey: string): OfficialApi {
  return new official.Api(sdkAppId, secretKey);
}
