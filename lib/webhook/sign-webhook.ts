import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** The three headers of a Standard Webhooks delivery. */
export interface WebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

export interface SignWebhookOptions {
  /** `whsec_` followed by the base64 key. */
  readonly secret: string;
  readonly payload: string;
  readonly messageId?: string;
  readonly now?: Date;
}

/**
 * Signs a payload the way a Standard Webhooks sender does: HMAC-SHA256 over `id.timestamp.payload`.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export function signWebhook(options: SignWebhookOptions): WebhookHeaders {
  const messageId = options.messageId ?? `msg_${randomUUID()}`;
  const now = options.now ?? new Date();
  const signature = new Webhook(options.secret).sign(messageId, now, options.payload);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
