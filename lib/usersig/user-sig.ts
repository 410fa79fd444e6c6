/**
 * UserSig v2 (TLSSigAPIv2, HMAC-SHA256): the admin signature every IM REST call carries (doc 269/32688).
 * Byte-for-byte what Tencent's official `tls-sig-api-v2` libraries produce; the tests check it against one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

/** Who signs: the app and its admin account, with the console secret key. */
export interface SigningKey {
  readonly sdkAppId: number;
  readonly identifier: string;
  /** The console secret, used as UTF-8 text (not hex-decoded), as every official library does. */
  readonly secretKey: string;
}

/** The decoded fields of a UserSig. */
export interface UserSigFields {
  readonly version: string;
  readonly identifier: string;
  readonly sdkAppId: number;
  /** Unix seconds when it was signed. */
  readonly time: number;
  /** Lifetime in seconds from `time`. */
  readonly expire: number;
  /** Base64 HMAC-SHA256 of the signed content. */
  readonly sig: string;
}

export type VerifyFailure = 'malformed' | 'wrong-sdkappid' | 'wrong-identifier' | 'expired' | 'bad-signature';
export type VerifyResult =
  { readonly ok: true; readonly fields: UserSigFields } | { readonly ok: false; readonly reason: VerifyFailure };

function signedContent(identifier: string, sdkAppId: number, time: number, expire: number): string {
  return `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
}

/** Standard Base64 of HMAC-SHA256(key, content): the `TLS.sig` field. */
function computeSig(secretKey: string, identifier: string, sdkAppId: number, time: number, expire: number): string {
  return createHmac('sha256', secretKey)
    .update(signedContent(identifier, sdkAppId, time, expire))
    .digest('base64');
}

// UserSig's own URL-safe alphabet: '+' → '*', '/' → '-', '=' → '_' (not RFC 4648 base64url).
const toSigAlphabet = (b64: string): string => b64.replace(/[+/=]/g, (c) => (c === '+' ? '*' : c === '/' ? '-' : '_'));
const fromSigAlphabet = (s: string): string => s.replace(/[*\-_]/g, (c) => (c === '*' ? '+' : c === '-' ? '/' : '='));

/**
 * Signs a UserSig valid for `expireSeconds` from `nowSeconds`.
 * zlib here is an RFC 1950 stream (deflateSync), as the official libraries produce.
 * @throws RangeError when `expireSeconds` is not a positive integer or `nowSeconds` not a non-negative integer.
 */
export function signUserSig(
  key: SigningKey,
  expireSeconds: number,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): string {
  // The signed content prints these numbers: a fraction (e.g. `Date.now() / 1000`) would sign a time IM cannot parse.
  if (!Number.isSafeInteger(expireSeconds) || expireSeconds <= 0)
    throw new RangeError(`expireSeconds must be a positive integer, got ${expireSeconds}`);
  if (!Number.isSafeInteger(nowSeconds) || nowSeconds < 0)
    throw new RangeError(`nowSeconds must be a non-negative integer, got ${nowSeconds}`);
  const doc = {
    'TLS.ver': '2.0',
    'TLS.identifier': key.identifier,
    'TLS.sdkappid': key.sdkAppId,
    'TLS.expire': expireSeconds,
    'TLS.time': nowSeconds,
    'TLS.sig': computeSig(key.secretKey, key.identifier, key.sdkAppId, nowSeconds, expireSeconds),
  };
  return toSigAlphabet(deflateSync(Buffer.from(JSON.stringify(doc))).toString('base64'));
}

// A real UserSig is a few hundred bytes; refusing large inputs keeps inflate cheap on hostile input.
const MAX_USERSIG_LENGTH = 4096;

/** Decodes a UserSig without checking it. Returns undefined when it is not a well-formed UserSig v2. */
function decodeUserSig(userSig: string): UserSigFields | undefined {
  if (userSig.length === 0 || userSig.length > MAX_USERSIG_LENGTH) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(
      inflateSync(Buffer.from(fromSigAlphabet(userSig), 'base64'), { maxOutputLength: 16 * 1024 }).toString('utf8'),
    );
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  const {
    'TLS.ver': version,
    'TLS.identifier': identifier,
    'TLS.sdkappid': sdkAppId,
    'TLS.time': time,
    'TLS.expire': expire,
    'TLS.sig': sig,
  } = d;
  // Some signers write numbers as strings; accept both.
  // Only non-negative safe integers: JSON also yields fractions, negatives and Infinity (`1e999`), which no signer writes.
  const num = (v: unknown): number | undefined => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
    return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  };
  const n = { sdkAppId: num(sdkAppId), time: num(time), expire: num(expire) };
  if (typeof version !== 'string' || typeof identifier !== 'string' || typeof sig !== 'string') return undefined;
  if (n.sdkAppId === undefined || n.time === undefined || n.expire === undefined) return undefined;
  return { version, identifier, sdkAppId: n.sdkAppId, time: n.time, expire: n.expire, sig };
}

/** Verifies a UserSig as IM does: right app, right account, not expired, HMAC matches (constant time). */
export function verifyUserSig(
  userSig: string,
  key: SigningKey,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): VerifyResult {
  const fields = decodeUserSig(userSig);
  if (fields === undefined) return { ok: false, reason: 'malformed' };
  if (fields.sdkAppId !== key.sdkAppId) return { ok: false, reason: 'wrong-sdkappid' };
  if (fields.identifier !== key.identifier) return { ok: false, reason: 'wrong-identifier' };
  if (nowSeconds > fields.time + fields.expire) return { ok: false, reason: 'expired' };
  const expected = Buffer.from(
    computeSig(key.secretKey, fields.identifier, fields.sdkAppId, fields.time, fields.expire),
  );
  const given = Buffer.from(fields.sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad-signature' };
  return { ok: true, fields };
}
