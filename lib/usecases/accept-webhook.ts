/**
 * The API function's use case: validate a webhook's users, apply what fits the budget at once, and spill
 * the rest to the overflow queue. Every valid user ends applied or queued; every other one is rejected.
 */
import { applyChunks } from '../dispatch/apply-chunks.ts';
import type { AttrSetter } from '../dispatch/types.ts';
import type { AttrNameSource } from '../attr-names/registered-names.ts';
import { ATTR, userAttrsBody, type OutgoingMessage } from '../queue/message-format.ts';
import type { QueuePublisher } from '../queue/queue-publisher.ts';
import { chunk } from '../rules/chunk.ts';
import type { UserAttr } from '../rules/types.ts';
import { validateUsers } from '../rules/validate-users.ts';
import { refusedToRejections, type ReportedRejection } from './outcome.ts';
import { OverflowUnavailableError } from './errors.ts';

export interface AcceptWebhookDeps {
  readonly im: AttrSetter;
  readonly attrNames: AttrNameSource;
  /** Undefined when no queue is configured: everything must then be applied inline. */
  readonly overflow: QueuePublisher | undefined;
  /** IM calls made inline before spilling to the queue. */
  readonly inlineCalls: number;
  /** How many calls this copy's pacing can start within the inline wait: more would only make the caller wait. */
  readonly inlineCapacity?: () => number;
}

export interface AcceptWebhookInput {
  readonly requestId: string;
  readonly body: unknown;
  /** Epoch ms after which no IM call may still be running. */
  readonly deadlineMs: number;
}

export interface AcceptWebhookResult {
  readonly requestId: string;
  /** Entries in `UserAttrs`. */
  readonly received: number;
  /** Entries folded into an earlier entry for the same account. */
  readonly merged: number;
  readonly applied: number;
  readonly queued: number;
  /** IM calls retried or not finished inline whose users were queued instead. */
  readonly deferred: number;
  readonly rejected: readonly ReportedRejection[];
}

export async function acceptWebhook(deps: AcceptWebhookDeps, input: AcceptWebhookInput): Promise<AcceptWebhookResult> {
  const allowedNames = await deps.attrNames.current();
  const { users, rejected, received } = validateUsers(input.body, { allowedNames });
  const chunks = chunk(users);
  // Without a queue there is nowhere to spill: apply it all inline (local runs without SQS).
  const inlineCount = deps.overflow === undefined ? chunks.length : Math.min(deps.inlineCalls, chunks.length, deps.inlineCapacity?.() ?? Number.POSITIVE_INFINITY);
  const outcome = await applyChunks(deps.im, chunks.slice(0, inlineCount), { deadlineMs: input.deadlineMs });

  // A chunk that failed transiently here is not the caller's problem: it joins the queued work.
  const toQueue: (readonly UserAttr[])[] = [...chunks.slice(inlineCount), ...outcome.retryable.flatMap((g) => chunk(g.users))];
  const queued = toQueue.reduce((n, c) => n + c.length, 0);
  if (toQueue.length > 0) {
    if (deps.overflow === undefined) throw new OverflowUnavailableError('no overflow queue is configured', { applied: outcome.applied.length, pending: queued });
    const messages: OutgoingMessage[] = toQueue.map((users) => ({
      body: userAttrsBody(users),
      attributes: { [ATTR.requestId]: input.requestId, [ATTR.origin]: 'api-overflow' },
    }));
    try {
      await deps.overflow.publish(messages);
    } catch (error) {
      throw new OverflowUnavailableError('the overflow queue could not take the remaining users', { applied: outcome.applied.length, pending: queued }, { cause: error });
    }
  }
  const allRejected = [...rejected, ...refusedToRejections(outcome.refused)];
  return {
    requestId: input.requestId,
    received,
    merged: received - users.length - rejected.length,
    applied: outcome.applied.length,
    queued,
    deferred: outcome.retryable.length,
    rejected: allRejected,
  };
}
