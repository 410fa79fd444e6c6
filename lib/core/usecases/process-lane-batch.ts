/**
 * The worker's use case for the lanes queue. A batch holds records of several lanes, each lane's in order.
 *
 * 1. Records are read with the request rules; what they refuse goes to the dead-letter queue at once.
 * 2. Records are merged: a later value for the same user and attribute replaces an earlier one, and the
 *    users of the whole batch are packed into IM calls of at most 100 (set and remove calls apart). The
 *    full calls of one record alone in its lane start first, while the rest is read.
 * 3. A record is done when every value it was the last to write was applied or dead-lettered. Within a
 *    lane, the first record that is not done fails, and so does every later record of its lane: they stay
 *    at the head of the lane, in order, and come back after a backoff the worker sets itself. Unfinished
 *    work is never appended to the lane, because that would put it behind newer work.
 * 4. A record still failing `outageToleranceMs` after its first receive goes to the dead-letter queue with
 *    its last error, so a long outage ends in dead letters with a reason rather than a lane blocked forever.
 */
import { setImmediate } from 'node:timers/promises';
import { applyCalls } from '../dispatch/apply-calls.ts';
import { appliedAccounts, type DispatchResult, type WriteCall } from '../dispatch/types.ts';
import { callEntries, callPairs, planWriteCalls } from '../dispatch/write-call.ts';
import { MAX_USERS_PER_CALL, sameNames, UNREGISTERED_NAME_RULE } from '../rules/constants.ts';
import { setOwn } from '../rules/own-record.ts';
import type { AttrValue, UserUpdate } from '../rules/types.ts';
import type { AttrNames, AttrWriter, DeadLetter, DeadLetters, QueueRecord, Redelivery } from '../ports.ts';
import { DONE, judgeInGroupOrder, retryLater } from './fifo-batch.ts';
import { groupBy } from './group-by.ts';
import { sendLetters } from './send-letters.ts';
import { readRecord, type ReadRecord } from './read-record.ts';

export interface LaneBatchDeps {
  readonly writer: AttrWriter;
  readonly attrNames: AttrNames;
  readonly deadLetters: DeadLetters;
  readonly redelivery: Redelivery;
  /** A record failing longer than this after its first receive is dead-lettered. */
  readonly outageToleranceMs: number;
  /**
   * A record failing longer than this after its first receive while other users of its batch were applied (IM
   * answers, only this lane fails) is dead-lettered (`lane-stuck`), so one stuck lane does not hold its messages
   * for the whole outage tolerance (SQS FIFO looks only at the first 120,000 messages for groups to serve).
   * Undefined: only the outage tolerance applies.
   */
  readonly stuckLaneToleranceMs?: number;
  /** The longest backoff between deliveries of a failing record. */
  readonly retryMaxSeconds: number;
  readonly now?: () => number;
}

export interface LaneBatchOutcome {
  /** Ids of the records to report in `batchItemFailures`: each failing record and the later ones of its lane. */
  readonly failedIds: readonly string[];
  /** Entries in the batch's records. */
  readonly received: number;
  /** Users whose every merged value IM confirmed. */
  readonly applied: number;
  /** Entries or users sent to the dead-letter queue. */
  readonly deadLettered: number;
  /** IM calls started (before retries). */
  readonly calls: number;
  /** Set when the backoff could not be set: the failed records then wait out the queue's visibility timeout. */
  readonly redeliveryError?: unknown;
}

/** Why a record is not done yet. */
interface Block {
  readonly errorCode: number;
  readonly errorInfo: string;
  /** False when nothing was tried: with `deadlineReached`, retry at once, no backoff. */
  readonly attempted: boolean;
  /** The deadline came before an attempt could start. */
  readonly deadlineReached?: boolean;
  /** Retry at once: the refusal may be undone already (the app's names were read again and have changed). */
  readonly immediate?: boolean;
  /** Retry after this many seconds, whatever the receive count (the names may be read again then). */
  readonly delaySeconds?: number;
}

/** IM's "invalid attribute" (doc 269/45938): a name the app has not registered. */
const UNREGISTERED_NAME_CODE = 90033;

const pairKey = (account: string, name: string): string => `${account}\u0000${name}`;

export async function processLaneBatch(
  deps: LaneBatchDeps,
  records: readonly QueueRecord[],
  deadlineMs: number,
): Promise<LaneBatchOutcome> {
  const now = deps.now ?? Date.now;
  const allowedNames = await deps.attrNames.current();

  // A fast start: a record alone in its lane in this batch needs no merging, so the first such record with full
  // calls starts them before the rest of the batch is read (reading ten records takes a busy copy tens of ms it
  // can spend calling IM). Its other users join the batch's merge: no more calls than merging all at once.
  const readEarly = new Map<number, ReadRecord>();
  let starter = -1;
  let head: Head | undefined;
  for (const index of records.length > 1 ? alonesInLane(records) : []) {
    const r = readRecord(records[index] as QueueRecord, allowedNames);
    readEarly.set(index, r);
    head = startHead(deps.writer, r, deadlineMs);
    if (head === undefined) continue;
    starter = index;
    await setImmediate();
    break;
  }

  // Merge in batch order (each lane's records arrive in lane order): the last writer of each pair wins.
  const lastWriter = new Map<string, number>();
  const merged = new Map<string, Record<string, AttrValue>>();
  const read: ReadRecord[] = [];
  let meetsHead = false;
  for (const [index, record] of records.entries()) {
    const r = readEarly.get(index) ?? readRecord(record, allowedNames);
    read.push(r);
    if (index === starter && head !== undefined) for (const key of head.pairs) lastWriter.set(key, index);
    let users = index === starter && head !== undefined ? head.rest : r.users;
    // A user in the head's lane and in another (only while laneCount changes, docs/architecture.md): an earlier record's value
    // is superseded by the head's, and a later record's must land after it.
    if (head !== undefined && index < starter) users = withoutPairs(users, head.pairs);
    if (head !== undefined && index > starter && users.some((u) => head.accounts.has(u.To_Account))) meetsHead = true;
    mergeUsers(merged, users, (account, name) => lastWriter.set(pairKey(account, name), index));
    // The head's calls go out between records, not after the whole batch.
    if (head !== undefined) await setImmediate();
  }
  const updates: UserUpdate[] = [...merged].map(([To_Account, Attrs]) => ({ To_Account, Attrs }));
  const calls = planWriteCalls(updates);
  if (meetsHead) await head?.result;
  const [headResult, restResult] = await Promise.all([head?.result, applyCalls(deps.writer, calls, { deadlineMs })]);
  const result = headResult === undefined ? restResult : joinResults(headResult, restResult);

  // Which records each outcome concerns, through the pairs they last wrote.
  const writersOf = (call: WriteCall): Set<number> =>
    new Set(callPairs(call).map((p) => lastWriter.get(pairKey(p.account, p.name)) ?? -1));
  const blocks = new Map<number, Block>();
  const block = (index: number, why: Block): void => {
    if (!blocks.has(index)) blocks.set(index, why);
  };
  for (const group of result.retryable) for (const index of writersOf(group.call)) block(index, group);

  // Before a user is dead-lettered for a name the app lacks, the names are read again (an operator may have just
  // registered it and replayed): if they changed, the record comes back at once and is read with them; if they
  // were last read before the record arrived (the read is at most once per 10 s), it comes back after the next.
  const refusedForNames = result.refused.filter((g) => g.errorCode === UNREGISTERED_NAME_CODE);
  const namesRefused =
    refusedForNames.length > 0 || read.some((r) => r.deadLetters.some((l) => l.why.rule === UNREGISTERED_NAME_RULE));
  const fresh = namesRefused ? await deps.attrNames.refresh() : allowedNames;
  const reads = deps.attrNames.reads();
  const holdFor = (arrivedMs: number): Block | undefined => {
    if (!sameNames(fresh, allowedNames))
      return {
        errorCode: 0,
        errorInfo: "the app's attribute names were read again and have changed",
        attempted: false,
        immediate: true,
      };
    if (reads === undefined || reads.lastMs >= arrivedMs) return undefined;
    const delaySeconds = Math.max(1, Math.ceil((reads.nextMs - now()) / 1000));
    return {
      errorCode: 0,
      errorInfo: "the app's attribute names were not read since the record arrived",
      attempted: false,
      delaySeconds,
    };
  };
  const held = new Set<number>();
  /** Holds the records back instead of dead-lettering them for a name, when the names say it may be registered now. */
  const hold = (indexes: readonly number[]): boolean => {
    const why = holdFor(Math.max(...indexes.map((i) => records[i]?.firstReceivedAt ?? 0)));
    if (why === undefined) return false;
    for (const index of indexes) {
      held.add(index);
      block(index, why);
    }
    return true;
  };
  const refused = result.refused.filter((g) => !refusedForNames.includes(g) || !hold([...writersOf(g.call)]));
  const ruleLetters = (r: ReadRecord, index: number): readonly DeadLetter[] =>
    r.deadLetters.some((l) => l.why.rule === UNREGISTERED_NAME_RULE) && (held.has(index) || hold([index]))
      ? []
      : r.deadLetters;

  const letters: { letter: DeadLetter; from: readonly number[] }[] = read.flatMap((r, index) =>
    ruleLetters(r, index).map((letter) => ({ letter, from: [index] })),
  );
  for (const group of refused) {
    const from = [...writersOf(group.call)];
    const ids = from.map((i) => records[i]?.id ?? '?');
    letters.push({
      from,
      letter: {
        entries: callEntries(group.call),
        why: {
          rule: `im-error-${group.errorCode}`,
          reason: `IM refused these users for good (ErrorCode ${group.errorCode}: ${group.errorInfo}); attributes ${[...new Set(callPairs(group.call).map((p) => p.name))].join(', ')} from records ${ids.join(', ')}`,
          requestId: records[from[0] ?? 0]?.requestId ?? '',
          errorCode: group.errorCode,
          errorInfo: group.errorInfo,
          records: ids,
        },
      },
    });
  }
  if (
    !(await sendLetters(
      deps.deadLetters,
      letters.map((l) => l.letter),
    ))
  ) {
    for (const { from } of letters)
      for (const index of from)
        block(index, {
          errorCode: 0,
          errorInfo: 'the dead-letter queue could not take the refused users',
          attempted: true,
        });
  }

  // Walk each lane in order (the FIFO policy, fifo-batch.ts): done records are acknowledged; the first blocked one
  // fails with all after it, unless it has been failing past the outage tolerance (or, stuck while IM applied
  // users of this batch, past the stuck-lane tolerance), in which case it is dead-lettered.
  const othersApplied = result.applied.length > 0;
  const aged: { index: number; letter: DeadLetter }[] = [];
  const failed = await judgeInGroupOrder(records, (record, index) => {
    const why = blocks.get(index);
    if (why === undefined) return DONE;
    const failingMs = now() - record.firstReceivedAt;
    const rule =
      failingMs > deps.outageToleranceMs
        ? 'outage-tolerance-exceeded'
        : deps.stuckLaneToleranceMs !== undefined &&
            why.attempted &&
            othersApplied &&
            failingMs > deps.stuckLaneToleranceMs
          ? 'lane-stuck'
          : undefined;
    if (rule === undefined) return { done: false, delaySeconds: retryDelaySeconds(record, why, deps.retryMaxSeconds) };
    const tolerance = rule === 'lane-stuck' ? (deps.stuckLaneToleranceMs ?? 0) : deps.outageToleranceMs;
    aged.push({ index, letter: agedLetter(record, why, tolerance, rule) });
    return DONE;
  });
  const agedSent =
    aged.length === 0 ||
    (await sendLetters(
      deps.deadLetters,
      aged.map((a) => a.letter),
    ));
  if (!agedSent) {
    // Could not dead-letter them: they and the rest of their lanes wait for the next delivery instead.
    const agedIds = new Set(aged.map((a) => records[a.index]?.id));
    for (const lane of lanesOf(read)) {
      const start = lane.findIndex((i) => agedIds.has(records[i]?.id));
      if (start === -1) continue;
      for (const index of lane.slice(start)) {
        const record = read[index]?.record as QueueRecord;
        if (!failed.some((f) => f.record === record))
          failed.push({ record, delaySeconds: Math.min(deps.retryMaxSeconds, 30) });
      }
    }
  }

  const redeliveryError = await retryLater(deps.redelivery, failed);

  return {
    failedIds: failed.map((f) => f.record.id),
    received: read.reduce((n, r) => n + r.received, 0),
    applied: appliedAccounts(result).size,
    // Users, not records: an aged-out record counts its users; a user refused in a set and a remove call once.
    deadLettered:
      read.reduce((n, r, index) => n + (held.has(index) ? 0 : r.rejected), 0) +
      new Set(refused.flatMap((g) => g.call.users.map((u) => u.To_Account))).size +
      (agedSent ? aged.reduce((n, a) => n + (read[a.index]?.users.length ?? 0), 0) : 0),
    calls: calls.length + (head?.calls ?? 0),
    ...(redeliveryError === undefined ? {} : { redeliveryError }),
  };
}

/** Merges users into `into`, a later value of a user's attribute replacing an earlier one; tells each pair written. */
function mergeUsers(
  into: Map<string, Record<string, AttrValue>>,
  users: readonly UserUpdate[],
  wrote?: (account: string, name: string) => void,
): void {
  for (const user of users) {
    let attrs = into.get(user.To_Account);
    if (attrs === undefined) into.set(user.To_Account, (attrs = {}));
    for (const [name, value] of Object.entries(user.Attrs)) {
      setOwn(attrs, name, value);
      wrote?.(user.To_Account, name);
    }
  }
}

/** The indexes of the records whose message group has no other record in the batch, in batch order. */
function alonesInLane(records: readonly QueueRecord[]): number[] {
  const count = new Map<string, number>();
  for (const r of records) count.set(r.group, (count.get(r.group) ?? 0) + 1);
  return [...records.keys()].filter((index) => count.get(records[index]?.group ?? '') === 1);
}

/** A record's full calls, started at once, and what is left of it for the batch's merge. */
interface Head {
  readonly result: Promise<DispatchResult>;
  readonly calls: number;
  /** The user-and-attribute pairs the started calls write. */
  readonly pairs: ReadonlySet<string>;
  readonly accounts: ReadonlySet<string>;
  /** The record's users less those pairs. */
  readonly rest: readonly UserUpdate[];
}

function startHead(writer: AttrWriter, read: ReadRecord, deadlineMs: number): Head | undefined {
  // A record may name a user twice (a producer's own message): its later value wins here as in the batch merge.
  const own = new Map<string, Record<string, AttrValue>>();
  mergeUsers(own, read.users);
  const users = [...own].map(([To_Account, Attrs]): UserUpdate => ({ To_Account, Attrs }));
  const full = planWriteCalls(users).filter((call) => call.users.length === MAX_USERS_PER_CALL);
  if (full.length === 0) return undefined;
  const pairs = new Set(full.flatMap((call) => callPairs(call).map((p) => pairKey(p.account, p.name))));
  return {
    result: applyCalls(writer, full, { deadlineMs }),
    calls: full.length,
    pairs,
    accounts: new Set(full.flatMap((call) => call.users.map((u) => u.To_Account))),
    rest: withoutPairs(users, pairs),
  };
}

/** Users less the given user-and-attribute pairs; users left with no attribute are dropped. */
function withoutPairs(users: readonly UserUpdate[], pairs: ReadonlySet<string>): UserUpdate[] {
  return users
    .map((u): UserUpdate => ({
      To_Account: u.To_Account,
      Attrs: Object.fromEntries(Object.entries(u.Attrs).filter(([name]) => !pairs.has(pairKey(u.To_Account, name)))),
    }))
    .filter((u) => Object.keys(u.Attrs).length > 0);
}

function joinResults(a: DispatchResult, b: DispatchResult): DispatchResult {
  return {
    applied: [...a.applied, ...b.applied],
    refused: [...a.refused, ...b.refused],
    retryable: [...a.retryable, ...b.retryable],
  };
}

/** Record indexes per message group, in batch order. */
function lanesOf(read: readonly ReadRecord[]): number[][] {
  return [...groupBy([...read.keys()], (index) => read[index]?.record.group).values()];
}

/** Backoff by receive count: 1 s, 2 s, 4 s … capped; none when nothing was tried (the deadline came first). */
function retryDelaySeconds(record: QueueRecord, why: Block, maxSeconds: number): number {
  if (why.immediate === true || (!why.attempted && why.deadlineReached === true)) return 0;
  if (why.delaySeconds !== undefined) return Math.min(maxSeconds, why.delaySeconds);
  return Math.min(maxSeconds, 2 ** Math.min(30, Math.max(0, record.receiveCount - 1)));
}

function agedLetter(
  record: QueueRecord,
  why: Block,
  toleranceMs: number,
  rule: 'outage-tolerance-exceeded' | 'lane-stuck',
): DeadLetter {
  const minutes = Math.round(toleranceMs / 60_000);
  const others = rule === 'lane-stuck' ? ' while other lanes were applied' : '';
  return {
    raw: record.body,
    why: {
      rule,
      reason: `still failing ${minutes} minutes after its first delivery${others} (${record.receiveCount} deliveries); last error: ErrorCode ${why.errorCode}: ${why.errorInfo}`,
      requestId: record.requestId,
      errorCode: why.errorCode,
      errorInfo: why.errorInfo,
      records: [record.id],
    },
  };
}
