import { Webhook } from 'standardwebhooks';
import { ReplayGuard } from './replay-guard.ts';

export class WebhookAuthError extends Error {
  override readonly name = 'WebhookAuthError';
  /** Why, for logs only: the response never says which check failed. */
  readonly reason: 'missing-headers' | 'bad-signature' | 'replayed' | 'no-secret';
  constructor(reason: WebhookAuthError['reason'], options?: ErrorOptions) {
    super('webhook authentication failed', options);
    this.reason = reason;
  }
}

export type HeaderBag = Readonly<Record<string, string | undefined>>;

/**
 * Authenticates a webhook by the Standard Webhooks spec: HMAC-SHA256 over `id.timestamp.body`, compared in
 * constant time by the `standardwebhooks` package, which also refuses timestamps more than 5 minutes off.
 * Replays of a still-fresh signature are refused by id.
 */
export class WebhookAuthenticator {
  readonly #replays: ReplayGuard;
  #verifier: { secret: string; webhook: Webhook } | undefined;

  constructor(options: { replayGuard?: ReplayGuard } = {}) {
    this.#replays = options.replayGuard ?? new ReplayGuard();
  }

  /** Throws WebhookAuthError unless the body is signed with `secret`. Header names are matched case-insensitively. */
  verify(rawBody: string, headers: HeaderBag, secret: string | undefined): void {
    if (secret === undefined) throw new WebhookAuthError('no-secret');
    const lower: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) lower[k.toLowerCase()] = v;
    const id = lower['webhook-id'];
    const timestamp = lower['webhook-timestamp'];
    const signature = lower['webhook-signature'];
    if (id === undefined || timestamp === undefined || signature === undefined) throw new WebhookAuthError('missing-headers');
    try {
      // jsonParse off: the body is parsed once, later, by the request rules.
      this.#webhookFor(secret).verify(rawBody, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature }, { jsonParse: false });
    } catch (error) {
      throw new WebhookAuthError('bad-signature', { cause: error });
    }
    // Only a verified id is remembered: unsigned garbage must not fill the guard.
    if (!this.#replays.firstSighting(id)) throw new WebhookAuthError('replayed');
  }

  #webhookFor(secret: string): Webhook {
    if (this.#verifier?.secret !== secret) this.#verifier = { secret, webhook: new Webhook(secret) };
    return this.#verifier.webhook;
  }
}
