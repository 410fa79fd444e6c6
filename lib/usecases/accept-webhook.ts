/**
 * The API function's use case. Every valid user of a webhook is written into its lane before the answer;
 * only then does the API make an early write of a few users, so a small webhook sees IM's own answer.
 * The lane still carries those users, so an early write can never overtake older queued work: the
 * worker writes them again, in lane order, and IM ends with the last accepted value.
 */
import { applyCalls } from '../dispatch/apply-calls.ts';
import type { WriteCall } from '../dispatch/types.ts';
import { planWriteCalls } from '../dispatch/write-call.ts';
import type { LaneMessage } from '../lanes/lane-plan.ts';
import { LANE_MESSAGE_LIMITS, planLaneMessages } from '../lanes/lane-plan.ts';
import { MAX_USERS_PER_CALL } from '../rules/constants.ts';
import { validateUsers } from '../rules/validate-users.ts';
import { LanesUnavailableError } from './errors.ts';
import { refusedToRejections, type ReportedRejection } from './outcome.ts';
import type { AttrNames, AttrWriter, Lanes } from './ports.ts';

export interface AcceptWebhookDeps {
  readonly writer: AttrWriter;
  readonly attrNames: AttrNames;
  readonly lanes: Lanes;
  readonly laneCount: number;
  /** IM calls of early writes per webhook (each ≤ 100 users). */
  readonly inlineChunks: number;
  /** How many calls this copy's pacing can start within the inline wait: none means no early write. */
  readonly inlineCapacity?: () => number;
}

export interface AcceptWebhookInput {
  readonly requestId: string;
  /** What identifies the request across re-sends (`webhook-id`, `Idempotency-Key`); else the request id. */
  readonly key: string;
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
  /** Users written into lanes (every valid user). */
  readonly accepted: number;
  /** Accepted users IM confirmed in the early write. */
  readonly applied: number;
  /** Accepted users left for the lanes' worker. */
  readonly queued: number;
  /** Users refused by the rules, and users IM refused for good in the early write (`im-error-<code>`). */
  readonly rejected: readonly ReportedRejection[];
}

export async function acceptWebhook(deps: AcceptWebhookDeps, input: AcceptWebhookInput): Promise<AcceptWebhookResult> {
  const allowedNames = await deps.attrNames.current();
  const { users, rejected, received } = validateUsers(input.body, { allowedNames });
  // Each lane's first message is one call's worth: a large webhook's IM work starts right after validation
  // (the early write, and workers with small messages) rather than when the large messages are parsed.
  const messages = planLaneMessages(users, deps.laneCount, input.key, { ...LANE_MESSAGE_LIMITS, headMaxUsers: MAX_USERS_PER_CALL });

  const meta = { requestId: input.requestId, origin: 'api' } as const;
  const unavailable = (unsent: readonly LaneMessage[]): LanesUnavailableError => {
    const pending = unsent.reduce((n, m) => n + m.users.length, 0);
    return new LanesUnavailableError('some users could not be written into their lanes', { accepted: users.length - pending, pending });
  };

  // The early write's own lane messages go first, and the write starts as soon as they are in: its users are
  // in their lanes before IM sees them (the order guarantee), while the rest of a large webhook is still being
  // written. Each user is in one message, so writing the messages in two steps reorders no user's updates.
  const early = earlyWriteMessages(messages, Math.min(deps.inlineChunks, deps.inlineCapacity?.() ?? Number.POSITIVE_INFINITY));
  const rest = messages.filter((m) => !early.includes(m));
  const unsentEarly = early.length === 0 ? [] : await deps.lanes.enqueue(early, meta);
  if (unsentEarly.length > 0) throw unavailable([...unsentEarly, ...rest]);
  const writing = applyCalls(deps.writer, planWriteCalls(early.flatMap((m) => m.users)), { deadlineMs: input.deadlineMs });
  let unsent: readonly LaneMessage[];
  try {
    unsent = rest.length === 0 ? [] : await deps.lanes.enqueue(rest, meta);
  } catch (error) {
    // The early write in flight ends before the failure is answered: nothing runs on after the invocation.
    await writing;
    throw error;
  }
  const outcome = await writing;
  if (unsent.length > 0) throw unavailable(unsent);
  // A user with values to set and names to remove is in two calls: count accounts, not call entries.
  const accounts = (groups: readonly { readonly call: WriteCall }[]) => new Set(groups.flatMap((g) => g.call.users.map((u) => u.To_Account)));
  const refusedAccounts = accounts(outcome.refused);
  const unfinished = accounts([...outcome.refused, ...outcome.retryable]);
  const applied = [...accounts(outcome.applied.map((call) => ({ call })))].filter((a) => !unfinished.has(a)).length;
  const refused = refusedToRejections(outcome.refused).filter((r, i, all) => all.findIndex((o) => o.To_Account === r.To_Account) === i);
  return {
    requestId: input.requestId,
    received,
    merged: received - users.length - rejected.length,
    accepted: users.length,
    applied,
    queued: users.length - applied - refusedAccounts.size,
    rejected: [...rejected, ...refused],
  };
}

/**
 * Whole lane messages, smallest first, while their users fit `calls` IM calls (a user with values to set
 * and names to remove needs one call of each kind): a small webhook is written early in full, and a large
 * one spends its early call on the first of its lanes' head messages, cut to one call's worth.
 */
function earlyWriteMessages(messages: readonly LaneMessage[], calls: number): LaneMessage[] {
  const limit = Math.max(0, Math.floor(calls));
  const chosen: LaneMessage[] = [];
  let sets = 0;
  let removes = 0;
  for (const message of [...messages].sort((a, b) => a.users.length - b.users.length)) {
    let moreSets = 0;
    let moreRemoves = 0;
    for (const user of message.users) {
      const values = Object.values(user.Attrs);
      if (values.some((v) => v !== null)) moreSets++;
      if (values.some((v) => v === null)) moreRemoves++;
    }
    const needed = Math.ceil((sets + moreSets) / MAX_USERS_PER_CALL) + Math.ceil((removes + moreRemoves) / MAX_USERS_PER_CALL);
    if (needed > limit) break;
    chosen.push(message);
    sets += moreSets;
    removes += moreRemoves;
  }
  return chosen;
}
