import { createHmac, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';

export class WebhookAuthError extends GatewayError {
  override name = 'WebhookAuthError';
  /** Why, for logs only: the response never says which check failed. */
  readonly reason:
    | 'missing-headers'
    | 'no-iam-caller'
    | 'bad-id'
    | 'bad-signature-format'
    | 'bad-signature'
    | 'bad-timestamp'
    | 'stale'
    | 'no-secret';
  constructor(reason: WebhookAuthError['reason'], options?: ErrorOptions) {
    super('webhook authentication failed', options);
    this.reason = reason;
  }
}

export type HeaderBag = Readonly<Record<string, string | undefined>>;

/** A webhook whose signature is good. */
export interface VerifiedWebhook {
  readonly id: string;
  /**
   * False when the timestamp is more than 5 minutes old (the spec's tolerance): such a request may only
   * be answered from the idempotency store (a re-send of a request already completed), never applied.
   */
  readonly fresh: boolean;
}

/** The Standard Webhooks headers, well formed and not from the future; the signature is not checked yet. */
export interface WebhookHeaders extends VerifiedWebhook {
  readonly seconds: number;
  /** The decoded `v1` signatures of the header (32 bytes each). */
  readonly signatures: readonly Buffer[];
}

/** The Standard Webhooks tolerance for `webhook-timestamp`, either way. */
const TOLERANCE_SECONDS = 5 * 60;
/** Ids are short opaque strings (`msg_…`); printable ASCII without spaces, at most 256 characters. */
const ID_FORMAT = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP_FORMAT = /^\d{1,12}$/;
/** One `v1,` signature: base64 of an HMAC-SHA256 (32 bytes). Other versions (`v1a,…`) are ignored. */
const V1_SIGNATURE = /^v1,([A-Za-z0-9+/]{43}=)$/;
/** Any versioned signature: `v<digits><letter?>,<base64>`. */
const ANY_SIGNATURE = /^v\d+[a-z]?,[A-Za-z0-9+/]+={0,2}$/;
/** A few signatures during a secret rotation; anything longer is not a sender's header. */
const MAX_SIGNATURE_HEADER_CHARS = 1024;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Authenticates a webhook by the Standard Webhooks spec: HMAC-SHA256 over `id.timestamp.body` keyed with
 * the base64 key of the `whsec_…` secret, compared in constant time with each `v1` signature of the header.
 * The HMAC is node:crypto's (native), not the `standardwebhooks` package's pure-JS SHA-256, which took
 * ~35 ms per 5 MB body on the bench machine: that was the cost of every forged request.
 * `inspect` is the cheap part, run before the secret is read or the body hashed: header formats, and
 * timestamps from the future beyond the tolerance. Old timestamps are reported as not fresh rather than
 * refused, because a sender's late re-send of a completed request deserves its stored answer (and that
 * answer may only be given once the signature is checked).
 */
export class WebhookAuthenticator {
  #key: { secret: string; key: Buffer | undefined } | undefined;
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Header presence and formats, and the timestamp window. Throws WebhookAuthError; needs no secret. */
  inspect(headers: HeaderBag): WebhookHeaders {
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) lower[k.toLowerCase()] = v;
    const id = lower['webhook-id'];
    const timestamp = lower['webhook-timestamp'];
    const header = lower['webhook-signature'];
    if (id === undefined || timestamp === undefined || header === undefined)
      throw new WebhookAuthError('missing-headers');
    if (!ID_FORMAT.test(id)) throw new WebhookAuthError('bad-id');
    if (!TIMESTAMP_FORMAT.test(timestamp)) throw new WebhookAuthError('bad-timestamp');
    if (header.length > MAX_SIGNATURE_HEADER_CHARS) throw new WebhookAuthError('bad-signature-format');
    const candidates = header.split(' ').filter((c) => c !== '');
    if (candidates.length === 0 || !candidates.every((c) => ANY_SIGNATURE.test(c)))
      throw new WebhookAuthError('bad-signature-format');
    const signatures = candidates.flatMap((c) => {
      const base64 = V1_SIGNATURE.exec(c)?.[1];
      return base64 === undefined ? [] : [Buffer.from(base64, 'base64')];
    });
    // No v1 signature of the right length: no HMAC could match it.
    if (signatures.length === 0) throw new WebhookAuthError('bad-signature-format');
    const seconds = Number(timestamp);
    const nowSeconds = Math.floor(this.#now() / 1000);
    if (seconds > nowSeconds + TOLERANCE_SECONDS) throw new WebhookAuthError('bad-timestamp');
    return { id, seconds, signatures, fresh: nowSeconds - seconds <= TOLERANCE_SECONDS };
  }

  /** Throws WebhookAuthError unless the body is signed with `secret`. Header names are matched case-insensitively. */
  verify(rawBody: string, headers: HeaderBag, secret: string | undefined): VerifiedWebhook {
    if (secret === undefined) throw new WebhookAuthError('no-secret');
    const { id, seconds, signatures, fresh } = this.inspect(headers);
    const key = this.#keyOf(secret);
    if (key === undefined) throw new WebhookAuthError('bad-signature');
    const expected = createHmac('sha256', key).update(`${id}.${seconds}.`).update(rawBody).digest();
    if (!signatures.some((given) => given.length === expected.length && timingSafeEqual(given, expected)))
      throw new WebhookAuthError('bad-signature');
    return { id, fresh };
  }

  /** The HMAC key of a `whsec_` secret; undefined when it is not usable (empty, or not strict base64). */
  #keyOf(secret: string): Buffer | undefined {
    if (this.#key?.secret !== secret) {
      const base64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
      this.#key = {
        secret,
        key: base64 !== '' && STRICT_BASE64.test(base64) ? Buffer.from(base64, 'base64') : undefined,
      };
    }
    return this.#key.key;
  }
}
