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
import { applyCalls } from '../dispatch/apply-calls.ts';
import { applyTagPlan } from '../dispatch/apply-tag-calls.ts';
import { planTagCalls } from '../dispatch/tag-calls.ts';
import {
  appliedAccounts,
  isTagCall,
  type DispatchResult,
  type RefusedGroup,
  type WriteCall,
} from '../dispatch/types.ts';
import { callEntries, callPairs, planWriteCalls } from '../dispatch/write-call.ts';
import { sameNames, UNREGISTERED_NAME_RULE } from '../rules/constants.ts';
import type { AttrNames, Writer, DeadLetter, DeadLetters, QueueRecord, Redelivery } from '../ports.ts';
import { DONE, judgeInGroupOrder, retryLater, type BatchOutcome, type FailedRecord } from './fifo-batch.ts';
import { groupBy } from './group-by.ts';
import { pairKey, readAndMerge } from './lane-batch-merge.ts';
import { sendLetters } from './send-letters.ts';
import type { ReadRecord } from './read-record.ts';

export interface LaneBatchDeps {
  readonly writer: Writer;
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

/** A lanes batch's outcome; `deadLettered` counts entries or users. */
export interface LaneBatchOutcome extends BatchOutcome {
  /** Users whose every merged value IM confirmed. */
  readonly applied: number;
  /** IM calls started (before retries). */
  readonly calls: number;
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

export async function processLaneBatch(
  deps: LaneBatchDeps,
  records: readonly QueueRecord[],
  deadlineMs: number,
): Promise<LaneBatchOutcome> {
  const now = deps.now ?? Date.now;
  const allowedNames = await deps.attrNames.current();
  const batch = await readAndMerge(deps.writer, records, allowedNames, deadlineMs);
  const { head } = batch;
  const calls = planWriteCalls(batch.updates);
  const tagPlan = planTagCalls(batch.tags);
  const tagCalls = tagPlan.removeAll.length + tagPlan.remove.length + tagPlan.add.length;
  if (batch.meetsHead) await head?.result;
  // Tags and attributes are apart in IM: the tag phases run beside the attribute calls.
  const [headResult, restResult, tagResult] = await Promise.all([
    head?.result,
    applyCalls(deps.writer, calls, { deadlineMs }),
    tagCalls === 0 ? undefined : applyTagPlan(deps.writer, tagPlan, { deadlineMs }),
  ]);
  const result = [headResult, tagResult].reduce<DispatchResult>(
    (joined, more) => (more === undefined ? joined : joinResults(joined, more)),
    restResult,
  );

  const blocks = new RecordBlocks(batch.lastWriter, batch.tagWriters);
  for (const group of result.retryable) blocks.blockWriters(group.call, group);
  const refusals = await refusalLetters(deps, records, batch.read, result, allowedNames, blocks, now);
  if (
    !(await sendLetters(
      deps.deadLetters,
      refusals.letters.map((l) => l.letter),
    ))
  ) {
    const why = { errorCode: 0, errorInfo: 'the dead-letter queue could not take the refused users', attempted: true };
    for (const { from } of refusals.letters) for (const index of from) blocks.block(index, why);
  }
  const lanes = await settleLanes(deps, records, blocks, result.applied.length > 0, now);
  const redeliveryError = await retryLater(deps.redelivery, lanes.failed);

  const { read } = batch;
  return {
    failedIds: lanes.failed.map((f) => f.record.id),
    received: read.reduce((n, r) => n + r.received, 0),
    applied: appliedAccounts(result).size,
    // Users, not records: an aged-out record counts its users; a user refused in a set and a remove call once.
    deadLettered:
      read.reduce((n, r, index) => n + (refusals.held.has(index) ? 0 : r.rejected), 0) +
      new Set(refusals.refused.flatMap((g) => g.call.users.map((u) => u.To_Account))).size +
      (lanes.agedSent
        ? lanes.aged.reduce((n, a) => n + (read[a.index]?.users.length ?? 0) + (read[a.index]?.tags.length ?? 0), 0)
        : 0),
    calls: calls.length + (head?.calls ?? 0) + tagCalls,
    ...(redeliveryError === undefined ? {} : { redeliveryError }),
  };
}

/**
 * Why each record is not done yet, found through the pairs it last wrote (and every record that touched the tags
 * of a call's users); the first reason found stays.
 */
class RecordBlocks {
  readonly #lastWriter: ReadonlyMap<string, number>;
  readonly #tagWriters: ReadonlyMap<string, readonly number[]>;
  readonly #blocks = new Map<number, Block>();

  constructor(lastWriter: ReadonlyMap<string, number>, tagWriters: ReadonlyMap<string, readonly number[]>) {
    this.#lastWriter = lastWriter;
    this.#tagWriters = tagWriters;
  }

  /** The records (indexes) a call's outcome concerns: the last writers of its pairs, or its users' tag writers. */
  writersOf(call: WriteCall): Set<number> {
    if (isTagCall(call)) return new Set(call.users.flatMap((u) => this.#tagWriters.get(u.To_Account) ?? [-1]));
    return new Set(callPairs(call).map((p) => this.#lastWriter.get(pairKey(p.account, p.name)) ?? -1));
  }

  block(index: number, why: Block): void {
    if (!this.#blocks.has(index)) this.#blocks.set(index, why);
  }

  blockWriters(call: WriteCall, why: Block): void {
    for (const index of this.writersOf(call)) this.block(index, why);
  }

  get(index: number): Block | undefined {
    return this.#blocks.get(index);
  }
}

/**
 * The dead letters of what the rules and IM refused for good, less what is held back for a name: before a user is
 * dead-lettered for a name the app lacks, the names are read again (an operator may have just registered it and
 * replayed). If they changed, the record comes back at once and is read with them; if they were last read before
 * the record arrived (the read is at most once per 10 s), it comes back after the next.
 */
async function refusalLetters(
  deps: LaneBatchDeps,
  records: readonly QueueRecord[],
  read: readonly ReadRecord[],
  result: DispatchResult,
  allowedNames: ReadonlySet<string> | undefined,
  blocks: RecordBlocks,
  now: () => number,
): Promise<{ letters: { letter: DeadLetter; from: readonly number[] }[]; held: Set<number>; refused: RefusedGroup[] }> {
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
      blocks.block(index, why);
    }
    return true;
  };
  const refused = result.refused.filter((g) => !refusedForNames.includes(g) || !hold([...blocks.writersOf(g.call)]));
  const ruleLetters = (r: ReadRecord, index: number): readonly DeadLetter[] =>
    r.deadLetters.some((l) => l.why.rule === UNREGISTERED_NAME_RULE) && (held.has(index) || hold([index]))
      ? []
      : r.deadLetters;
  const letters = read.flatMap((r, index) => ruleLetters(r, index).map((letter) => ({ letter, from: [index] })));
  for (const group of refused.filter((g) => !isTagCall(g.call))) {
    const from = [...blocks.writersOf(group.call)];
    letters.push({
      from,
      letter: imRefusalLetter(
        group,
        from.map((i) => records[i]?.id ?? '?'),
        records[from[0] ?? 0],
      ),
    });
  }
  for (const groups of groupBy(
    refused.filter((g) => isTagCall(g.call)),
    (g) => g.errorCode,
  ).values()) {
    const from = [...new Set(groups.flatMap((g) => [...blocks.writersOf(g.call)]))];
    letters.push({
      from,
      letter: tagRefusalLetter(
        groups,
        from.map((i) => records[i]?.id ?? '?'),
        records[from[0] ?? 0],
      ),
    });
  }
  return { letters, held, refused };
}

function imRefusalLetter(group: RefusedGroup, ids: readonly string[], first: QueueRecord | undefined): DeadLetter {
  return {
    entries: callEntries(group.call),
    why: {
      rule: `im-error-${group.errorCode}`,
      reason: `IM refused these users for good (ErrorCode ${group.errorCode}: ${group.errorInfo}); attributes ${[...new Set(callPairs(group.call).map((p) => p.name))].join(', ')} from records ${ids.join(', ')}`,
      requestId: first?.requestId ?? '',
      errorCode: group.errorCode,
      errorInfo: group.errorInfo,
      records: [...ids],
    },
  };
}

/**
 * One letter for the users whose tag calls IM refused with the same code: each user's refused phases joined into
 * one entry (remove-all, remove, add: the order they apply in), so a replay applies them in order.
 */
function tagRefusalLetter(
  groups: readonly RefusedGroup[],
  ids: readonly string[],
  first: QueueRecord | undefined,
): DeadLetter {
  const byAccount = new Map<string, { RemoveAll?: true; Remove?: string[]; Add?: string[] }>();
  for (const entry of groups.flatMap((g) => callEntries(g.call)))
    if ('RemoveAll' in entry || 'Remove' in entry || 'Add' in entry) {
      const joined = byAccount.get(entry.To_Account) ?? {};
      if (entry.RemoveAll === true) joined.RemoveAll = true;
      if (entry.Remove !== undefined) joined.Remove = [...(joined.Remove ?? []), ...entry.Remove];
      if (entry.Add !== undefined) joined.Add = [...(joined.Add ?? []), ...entry.Add];
      byAccount.set(entry.To_Account, joined);
    }
  const [{ errorCode, errorInfo } = { errorCode: 0, errorInfo: '' }] = groups;
  return {
    entries: [...byAccount].map(([To_Account, ops]) => ({ To_Account, ...ops })),
    tags: true,
    why: {
      rule: `im-error-${errorCode}`,
      reason: `IM refused these users' tag operations for good (ErrorCode ${errorCode}: ${errorInfo}); from records ${ids.join(', ')}`,
      requestId: first?.requestId ?? '',
      errorCode,
      errorInfo,
      records: [...ids],
    },
  };
}

/**
 * Walks each lane in order (the FIFO policy, fifo-batch.ts): done records are acknowledged; the first blocked one
 * fails with all after it, unless it has been failing past the outage tolerance (or, stuck while IM applied users
 * of this batch, past the stuck-lane tolerance): then it is dead-lettered. When those letters cannot be written,
 * they and the rest of their lanes wait for the next delivery instead.
 */
async function settleLanes(
  deps: LaneBatchDeps,
  records: readonly QueueRecord[],
  blocks: RecordBlocks,
  othersApplied: boolean,
  now: () => number,
): Promise<{ failed: FailedRecord[]; aged: { index: number; letter: DeadLetter }[]; agedSent: boolean }> {
  const aged: { index: number; letter: DeadLetter }[] = [];
  const failed = await judgeInGroupOrder(records, (record, index) => {
    const why = blocks.get(index);
    if (why === undefined) return DONE;
    const failingMs = now() - record.firstReceivedAt;
    const stuck = deps.stuckLaneToleranceMs !== undefined && why.attempted && othersApplied;
    const rule =
      failingMs > deps.outageToleranceMs
        ? 'outage-tolerance-exceeded'
        : stuck && failingMs > (deps.stuckLaneToleranceMs ?? 0)
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
    const agedIds = new Set(aged.map((a) => records[a.index]?.id));
    for (const lane of groupBy([...records.keys()], (index) => records[index]?.group).values()) {
      const start = lane.findIndex((i) => agedIds.has(records[i]?.id));
      if (start === -1) continue;
      for (const index of lane.slice(start)) {
        const record = records[index] as QueueRecord;
        if (!failed.some((f) => f.record === record))
          failed.push({ record, delaySeconds: Math.min(deps.retryMaxSeconds, 30) });
      }
    }
  }
  return { failed, aged, agedSent };
}

function joinResults(a: DispatchResult, b: DispatchResult): DispatchResult {
  return {
    applied: [...a.applied, ...b.applied],
    refused: [...a.refused, ...b.refused],
    retryable: [...a.retryable, ...b.retryable],
  };
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
