/**
 * The API function's use case. Every valid user of a webhook is written into its lane before the answer;
 * only then, when the whole webhook fits `inlineChunks` calls, does the API write it to IM itself (the early
 * write), so a small webhook sees IM's own answer. A larger one is left to the workers entirely: writing part of
 * it early would only add calls, since the lanes carry every user anyway. The lane still carries the early
 * write's users, so it can never overtake older queued work: the worker writes them again, in lane order, and
 * IM ends with the last accepted value.
 *
 * A large webhook is read in two steps: the users of a few lanes first, whose lane messages are written before the
 * rest is read, so a worker can start on them while the API is still reading (a webhook's lane messages are
 * the same either way: each lane's are planned from that lane's users alone). The rest waits for the head's write:
 * reading it is seconds of CPU on a loaded copy, and begun at once it held the head's requests back behind it.
 */
import { setImmediate } from 'node:timers/promises';
import { applyCalls } from '../dispatch/apply-calls.ts';
import { accountsOf, appliedAccounts, type DispatchResult } from '../dispatch/types.ts';
import { planWriteCalls } from '../dispatch/write-call.ts';
import { entriesIn, planLaneMessages, planTagLaneMessages, type LaneMessage } from '../lanes/lane-plan.ts';
import { parseUserTagsEnvelope, validateTagEntries } from '../rules/tag-entry.ts';
import { MAX_USERS_PER_CALL } from '../rules/constants.ts';
import type { UserTagOps, UserUpdate } from '../rules/types.ts';
import { validateEntries } from '../rules/validate-users.ts';
import { parseUserAttrsEnvelope } from '../rules/schemas.ts';
import { laneOf } from '../lanes/lane-of.ts';
import type { EarlyWriteGate } from './early-write-gate.ts';
import { LanesUnavailableError } from '../errors.ts';
import { refusedToRejections, type ReportedRejection } from './outcome.ts';
import type { AttrNames, Writer, Lanes } from '../ports.ts';

export interface AcceptWebhookDeps {
  readonly writer: Writer;
  readonly attrNames: AttrNames;
  readonly lanes: Lanes;
  readonly laneCount: number;
  /** The most IM calls (each ≤ 100 users) of an early write: a webhook that needs more gets none. */
  readonly inlineChunks: number;
  /** How many calls this copy's pacing can start within the inline wait: none means no early write. */
  readonly inlineCapacity?: () => number;
  /** The longest the early write waits for its calls to start, ms; what has not started by then is left to the lanes. */
  readonly inlineWaitMs?: number;
  /** Closes the early write for a while after one missed its start (idle budget only); none: always open. */
  readonly inlineGate?: EarlyWriteGate;
}

export type AcceptWebhookInput = {
  readonly requestId: string;
  /** What identifies the request across re-sends (`webhook-id`, `Idempotency-Key`); else the request id. */
  readonly key: string;
  /** Epoch ms after which no IM call may still be running. */
  readonly deadlineMs: number;
} & (
  | { readonly body: unknown }
  /** The body already read by `readWebhook` with the same key (the API reads it while it records the request). */
  | { readonly read: Promise<WebhookRead> }
);

/** A webhook read by the rules, before anything is written: its valid users, rejections and lane messages. */
export interface WebhookRead {
  /** The lane messages of the first few lanes of a large webhook, read before the rest; none for a small one. */
  readonly head: readonly LaneMessage[];
  /** Reads the rest (after a turn of the event loop): called once the head is written, so the head leaves first. */
  readonly rest: () => Promise<WebhookReadRest>;
}

export interface WebhookReadRest {
  /** Every valid user, the head's included (none for a tags request). */
  readonly users: readonly UserUpdate[];
  /** A tags request's valid users, their entries composed per user (they are never written early). */
  readonly tags?: readonly UserTagOps[];
  readonly rejected: readonly ReportedRejection[];
  readonly received: number;
  /** The lane messages not in the head. */
  readonly messages: readonly LaneMessage[];
}

/** A webhook with at least this many entries is read a few lanes first (a small one reads in a few ms). */
export const HEAD_FIRST_MIN_ENTRIES = 1_000;
/**
 * About how many entries the lanes read first hold: 20 calls' worth, so the workers' first calls start while the
 * API reads the rest (with 250 lanes one lane of a 20,000-user webhook is only 80 users, less than a call).
 */
export const HEAD_FIRST_USERS = 2_000;

export interface AcceptWebhookResult {
  readonly requestId: string;
  /** Entries in `UserAttrs` (or `UserTags`). */
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

/** The outcome of a webhook the API leaves to the workers entirely. */
const NO_EARLY_WRITE: DispatchResult = { applied: [], refused: [], retryable: [] };

/**
 * Reads a tags request (`POST /v1/user-tags`) by the tag rules and plans its lane messages; writes nothing. Each
 * user's entries are composed into one, in order (all of them are in one lane, so a few lanes read first hold
 * whole users); tags are left to the lanes entirely (no early write).
 */
export function readTagsWebhook(deps: Pick<AcceptWebhookDeps, 'laneCount'>, key: string, body: unknown): WebhookRead {
  const envelope = parseUserTagsEnvelope(body);
  const received = envelope.entries.length;
  const plan = (tags: readonly UserTagOps[]): LaneMessage[] => planTagLaneMessages(tags, deps.laneCount, key);
  const { inHead, later } = headLanesOf(envelope.entries, deps.laneCount);
  const head = validateTagEntries(envelope, inHead);
  const rest = (): Promise<WebhookReadRest> =>
    setImmediate().then((): WebhookReadRest => {
      const others = validateTagEntries(envelope, later);
      const rejected = [...head.rejected, ...others.rejected].sort((a, b) => a.index - b.index);
      return { users: [], tags: [...head.users, ...others.users], rejected, received, messages: plan(others.users) };
    });
  return { head: plan(head.users), rest };
}

/**
 * The entries (indexes) of a few lanes to read first, and the rest: none first for a small webhook (it reads in a
 * few ms). From the lane of the first entry that names an account (an entry without one is read later), as many
 * consecutive lanes as hold about HEAD_FIRST_USERS of the webhook's entries.
 */
function headLanesOf(entries: readonly unknown[], laneCount: number): { inHead: number[]; later: number[] } {
  if (entries.length < HEAD_FIRST_MIN_ENTRIES) return { inHead: [], later: [...entries.keys()] };
  const laneOfEntry = (entry: unknown): number | undefined => {
    const account: unknown = typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'To_Account') : undefined;
    return typeof account === 'string' ? laneOf(account, laneCount) : undefined;
  };
  const lanes = entries.map(laneOfEntry);
  const firstLane = lanes.find((lane) => lane !== undefined) ?? 0;
  const headLanes = Math.max(
    1,
    Math.min(Math.floor(laneCount / 2), Math.ceil((laneCount * HEAD_FIRST_USERS) / entries.length)),
  );
  const isHead = (lane: number | undefined): boolean =>
    lane !== undefined && (lane - firstLane + laneCount) % laneCount < headLanes;
  const inHead: number[] = [];
  const later: number[] = [];
  lanes.forEach((lane, index) => (isHead(lane) ? inHead : later).push(index));
  return { inHead, later };
}

/** Reads a webhook's body by the rules and plans its lane messages; writes nothing. */
export async function readWebhook(
  deps: Pick<AcceptWebhookDeps, 'attrNames' | 'laneCount'>,
  key: string,
  body: unknown,
): Promise<WebhookRead> {
  const entries = parseUserAttrsEnvelope(body).UserAttrs;
  const allowedNames = await namesFor(deps.attrNames, entries);
  const received = entries.length;
  const plan = (users: readonly UserUpdate[]): LaneMessage[] => planLaneMessages(users, deps.laneCount, key);
  if (received < HEAD_FIRST_MIN_ENTRIES) {
    const { users, rejected } = validateEntries(entries, entries.keys(), { allowedNames });
    const rest = Promise.resolve({ users, rejected, received, messages: plan(users) });
    return { head: [], rest: () => rest };
  }
  const { inHead, later } = headLanesOf(entries, deps.laneCount);
  const head = validateEntries(entries, inHead, { allowedNames });
  const rest = (): Promise<WebhookReadRest> =>
    setImmediate().then((): WebhookReadRest => {
      const others = validateEntries(entries, later, { allowedNames });
      const rejected = [...head.rejected, ...others.rejected].sort((a, b) => a.index - b.index);
      return { users: [...head.users, ...others.users], rejected, received, messages: plan(others.users) };
    });
  return { head: plan(head.users), rest };
}

export async function acceptWebhook(deps: AcceptWebhookDeps, input: AcceptWebhookInput): Promise<AcceptWebhookResult> {
  const read = await ('read' in input ? input.read : readWebhook(deps, input.key, input.body));
  const meta = { requestId: input.requestId, origin: 'api' } as const;
  // The head is written before the rest is read: read at once, the rest's CPU work held the head's requests back.
  const headUnsent = read.head.length === 0 ? [] : await deps.lanes.enqueue(read.head, meta);
  const { users, tags = [], rejected, received, messages } = await read.rest();
  const accepted = users.length + tags.length;
  const unsent = [...headUnsent, ...(await deps.lanes.enqueue(messages, meta))];
  if (unsent.length > 0) {
    const pending = unsent.reduce((n, m) => n + entriesIn(m), 0);
    throw new LanesUnavailableError('some users could not be written into their lanes', {
      accepted: accepted - pending,
      pending,
    });
  }
  // Every user is in its lane: only now may IM see any of them.
  // More users than the early write's calls could hold never fit: no need to plan their calls.
  const calls = users.length <= deps.inlineChunks * MAX_USERS_PER_CALL ? planWriteCalls(users) : [];
  const early =
    calls.length > 0 &&
    calls.length <= Math.min(deps.inlineChunks, deps.inlineCapacity?.() ?? Number.POSITIVE_INFINITY) &&
    (deps.inlineGate?.open() ?? true);
  const startBy = deps.inlineWaitMs === undefined ? {} : { startByMs: Date.now() + deps.inlineWaitMs };
  const outcome = early
    ? await applyCalls(deps.writer, calls, { deadlineMs: input.deadlineMs, ...startBy })
    : NO_EARLY_WRITE;
  // A call that never started found the budget busy: the lanes write these users, and the copy pauses its early writes.
  if (outcome.retryable.some((group) => !group.attempted)) deps.inlineGate?.missed();
  // A user with values to set and names to remove is in two calls: count accounts, not call entries.
  const refusedAccounts = accountsOf(outcome.refused);
  const applied = appliedAccounts(outcome).size;
  const refused = refusedToRejections(outcome.refused).filter(
    (r, i, all) => all.findIndex((o) => o.To_Account === r.To_Account) === i,
  );
  return {
    requestId: input.requestId,
    received,
    merged: received - accepted - rejected.length,
    accepted,
    applied,
    queued: accepted - applied - refusedAccounts.size,
    rejected: [...rejected, ...refused],
  };
}

/**
 * The registered names to read `entries` with: read again from IM first (at most once per 10 s per copy) when an
 * entry names one the cached list lacks, so a name an operator has just registered is not refused.
 */
async function namesFor(attrNames: AttrNames, entries: readonly unknown[]): Promise<ReadonlySet<string> | undefined> {
  const names = await attrNames.current();
  if (names === undefined) return names;
  for (const entry of entries) {
    const attrs: unknown = typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'Attrs') : undefined;
    if (typeof attrs !== 'object' || attrs === null) continue;
    for (const name of Object.keys(attrs)) if (!names.has(name)) return attrNames.refresh();
  }
  return names;
}
