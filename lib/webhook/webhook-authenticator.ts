import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export class WebhookAuthError extends Error {
  override readonly name = 'WebhookAuthError';
  /** Why, for logs only: the response never says which check failed. */
  readonly reason: 'missing-headers' | 'bad-signature' | 'bad-timestamp' | 'stale' | 'no-secret';
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

/** The Standard Webhooks tolerance for `webhook-timestamp`, either way. */
const TOLERANCE_SECONDS = 5 * 60;

/**
 * Authenticates a webhook by the Standard Webhooks spec: HMAC-SHA256 over `id.timestamp.body` with the
 * `whsec_…` secret (signed by the `standardwebhooks` package), compared in constant time with each
 * signature of the header. Timestamps from the future beyond the tolerance are refused; old ones are
 * reported as not fresh rather than refused here, because a sender's late re-send of a completed request
 * deserves its stored answer.
 */
export class WebhookAuthenticator {
  #signer: { secret: string; webhook: Webhook } | undefined;
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Throws WebhookAuthError unless the body is signed with `secret`. Header names are matched case-insensitively. */
  verify(rawBody: string, headers: HeaderBag, secret: string | undefined): VerifiedWebhook {
    if (secret === undefined) throw new WebhookAuthError('no-secret');
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) lower[k.toLowerCase()] = v;
    const id = lower['webhook-id'];
    const timestamp = lower['webhook-timestamp'];
    const signatures = lower['webhook-signature'];
    if (id === undefined || timestamp === undefined || signatures === undefined) throw new WebhookAuthError('missing-headers');
    if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookAuthError('bad-timestamp');
    const seconds = Number(timestamp);
    let expected: Buffer;
    try {
      expected = Buffer.from(this.#signerFor(secret).sign(id, new Date(seconds * 1000), rawBody));
    } catch (error) {
      throw new WebhookAuthError('bad-signature', { cause: error });
    }
    const matches = signatures.split(' ').some((candidate) => {
      const given = Buffer.from(candidate);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!matches) throw new WebhookAuthError('bad-signature');
    const nowSeconds = Math.floor(this.#now() / 1000);
    if (seconds > nowSeconds + TOLERANCE_SECONDS) throw new WebhookAuthError('bad-timestamp');
    return { id, fresh: nowSeconds - seconds <= TOLERANCE_SECONDS };
  }

  #signerFor(secret: string): Webhook {
    if (this.#signer?.secret !== secret) this.#signer = { secret, webhook: new Webhook(secret) };
    return this.#signer.webhook;
  }
}
