import { setTimeout as sleep } from 'node:timers/promises';
import { signWebhook } from '../../lib/webhook/sign-webhook.ts';
import type { Destination, GatewayRejection } from './destination.ts';
import type { PackedMessage } from './message-packer.ts';

const ATTEMPTS = 6;

export interface WebhookDestinationOptions {
  readonly url: string;
  /** `whsec_…`; used to sign, never printed. */
  readonly secret: string;
  readonly runId: string;
  readonly fetch?: typeof fetch;
}

/** Thrown when the gateway refuses a request for good (a 4xx other than a re-delivery in progress). */
export class WebhookRefusedError extends Error {
  override readonly name = 'WebhookRefusedError';
}

interface RejectedUserAnswer {
  readonly To_Account?: unknown;
  readonly Path?: unknown;
  readonly Rule?: unknown;
  readonly Reason?: unknown;
}

/** `UserAttrs[3].Attrs.city` → 3 and `Attrs.city`. */
function splitPath(path: string): { index: number; rest: string } | undefined {
  const match = /^UserAttrs\[(\d+)\]\.?(.*)$/.exec(path);
  return match === null ? undefined : { index: Number(match[1]), rest: match[2] ?? '' };
}

/** The users the gateway refused in its answer, mapped back to their positions in the file. */
function rejectionsOf(answer: unknown, message: PackedMessage): GatewayRejection[] {
  if (
    typeof answer !== 'object' ||
    answer === null ||
    !('RejectedUsers' in answer) ||
    !Array.isArray(answer.RejectedUsers)
  )
    return [];
  return (answer.RejectedUsers as readonly RejectedUserAnswer[]).flatMap((r) => {
    const where = typeof r.Path === 'string' ? splitPath(r.Path) : undefined;
    const position = where === undefined ? undefined : message.positions[where.index];
    if (position === undefined || where === undefined) return [];
    return [
      {
        position,
        To_Account: typeof r.To_Account === 'string' ? r.To_Account : null,
        path: where.rest,
        rule: String(r.Rule),
        reason: String(r.Reason),
      },
    ];
  });
}

/**
 * The gateway's webhook, signed per Standard Webhooks. Each message is one request whose webhook-id is made of
 * the run and its first position: a request sent again (a retry, a resume) is answered from the gateway's
 * idempotency store and applied once. Requests go one at a time, so a 2xx (the users are in their lanes)
 * orders each before the next.
 */
export class WebhookDestination implements Destination {
  readonly label: string;
  /** `POST /v1/user-attrs` takes attributes only; tags have their own route. */
  readonly takesTags = false;
  readonly batchSize = 1;
  readonly #options: WebhookDestinationOptions;

  constructor(options: WebhookDestinationOptions) {
    this.#options = options;
    this.label = `webhook ${options.url}`;
  }

  async send(messages: readonly PackedMessage[]): Promise<readonly GatewayRejection[]> {
    const rejections: GatewayRejection[] = [];
    for (const message of messages) rejections.push(...(await this.#post(message)));
    return rejections;
  }

  async #post(message: PackedMessage): Promise<GatewayRejection[]> {
    const { url, secret, runId } = this.#options;
    const post = this.#options.fetch ?? fetch;
    const messageId = `push-${runId}-${message.firstPosition}`;
    let last = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const headers = signWebhook({ secret, payload: message.body, messageId });
      let status = 0;
      let text = '';
      let retryAfter: string | null = null;
      try {
        const response = await post(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: message.body,
        });
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        text = await response.text();
      } catch (error: unknown) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (status === 200 || status === 202 || status === 422) {
        let answer: unknown;
        try {
          answer = JSON.parse(text);
        } catch {
          answer = undefined;
        }
        // 422 with ErrorCode 1002: every user of the request was refused by the rules; they are listed.
        if (
          status !== 422 ||
          (typeof answer === 'object' && answer !== null && 'ErrorCode' in answer && answer.ErrorCode === 1002)
        )
          return rejectionsOf(answer, message);
      }
      if (status !== 0) last = `HTTP ${status}`;
      // 409: the same webhook-id is in progress (an earlier attempt); 429 and 5xx: try again, same id.
      if (status !== 0 && status !== 409 && status !== 429 && status < 500)
        throw new WebhookRefusedError(
          `${url} answered ${status} to the request starting at position ${message.firstPosition}: ${text.slice(0, 300)}`,
        );
      await sleep(retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 250 * 2 ** attempt);
    }
    throw new WebhookRefusedError(
      `${url}: the request starting at position ${message.firstPosition} failed ${ATTEMPTS} times (${last})`,
    );
  }
}
