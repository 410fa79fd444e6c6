/**
 * Reading and merging a lanes batch (process-lane-batch.ts, steps 1 and 2), with its fast start: a record alone in
 * its lane in the batch needs no merging, so the first such record with full calls starts them before the rest of
 * the batch is read (reading ten records takes a busy copy tens of ms it can spend calling IM). Its other users
 * join the batch's merge: no more calls than merging all at once.
 */
import { setImmediate } from 'node:timers/promises';
import { applyCalls } from '../dispatch/apply-calls.ts';
import type { DispatchResult } from '../dispatch/types.ts';
import { callPairs, planWriteCalls } from '../dispatch/write-call.ts';
import { MAX_USERS_PER_CALL } from '../rules/constants.ts';
import { setOwn } from '../rules/own-record.ts';
import { tagOpsOf } from '../rules/tag-entry.ts';
import { composeTagOps, type ComposedTags } from '../rules/tag-ops.ts';
import type { AttrValue, UserUpdate } from '../rules/types.ts';
import type { Writer, QueueRecord } from '../ports.ts';
import { readRecord, type ReadRecord } from './read-record.ts';

export const pairKey = (account: string, name: string): string => `${account}\u0000${name}`;

/** A batch read and merged. */
export interface MergedBatch {
  /** Every record read, in batch order. */
  readonly read: readonly ReadRecord[];
  /** The record (index) that last wrote each user-and-attribute pair (`pairKey`). */
  readonly lastWriter: ReadonlyMap<string, number>;
  /** The batch's users, each with the last value of each of its attributes. */
  readonly updates: readonly UserUpdate[];
  /** Each user's tag operations of the whole batch, composed in lane order (rules/tag-ops.ts). */
  readonly tags: ReadonlyMap<string, ComposedTags>;
  /**
   * The records (indexes) that touched each user's tags. Unlike an attribute's value, a tag operation is not
   * replaced by a later one (add `a` then add `b`), so every one of them waits for the user's composed calls.
   */
  readonly tagWriters: ReadonlyMap<string, readonly number[]>;
  /** The fast start's calls, already under way; undefined when no record had a full call alone in its lane. */
  readonly head: Head | undefined;
  /** A later record names a user of the head's calls: its values must land after them. */
  readonly meetsHead: boolean;
}

/** Reads the batch in order and merges it: the last writer of each pair wins; starts the fast head on the way. */
export async function readAndMerge(
  writer: Writer,
  records: readonly QueueRecord[],
  allowedNames: ReadonlySet<string> | undefined,
  deadlineMs: number,
): Promise<MergedBatch> {
  const { readEarly, starter, head } = await startFastHead(writer, records, allowedNames, deadlineMs);
  const lastWriter = new Map<string, number>();
  const merged = new Map<string, Record<string, AttrValue>>();
  const read: ReadRecord[] = [];
  const tags = new Map<string, ComposedTags>();
  const tagWriters = new Map<string, number[]>();
  let meetsHead = false;
  for (const [index, record] of records.entries()) {
    const r = readEarly.get(index) ?? readRecord(record, allowedNames);
    read.push(r);
    if (index === starter && head !== undefined) for (const key of head.pairs) lastWriter.set(key, index);
    let users = index === starter && head !== undefined ? head.rest : r.users;
    // A user in the head's lane and in another (only while laneCount changes, docs/architecture.md): an earlier
    // record's value is superseded by the head's, and a later record's must land after it.
    if (head !== undefined && index < starter) users = withoutPairs(users, head.pairs);
    if (head !== undefined && index > starter && users.some((u) => head.accounts.has(u.To_Account))) meetsHead = true;
    mergeUsers(merged, users, (account, name) => lastWriter.set(pairKey(account, name), index));
    for (const entry of r.tags) {
      tags.set(entry.To_Account, composeTagOps(tagOpsOf(entry), tags.get(entry.To_Account)));
      const writers = tagWriters.get(entry.To_Account);
      if (writers === undefined) tagWriters.set(entry.To_Account, [index]);
      else if (writers.at(-1) !== index) writers.push(index);
    }
    // The head's calls go out between records, not after the whole batch.
    if (head !== undefined) await setImmediate();
  }
  const updates = [...merged].map(([To_Account, Attrs]): UserUpdate => ({ To_Account, Attrs }));
  return { read, lastWriter, updates, tags, tagWriters, head, meetsHead };
}

/** The first record alone in its lane with a full call: its full calls start now. */
async function startFastHead(
  writer: Writer,
  records: readonly QueueRecord[],
  allowedNames: ReadonlySet<string> | undefined,
  deadlineMs: number,
): Promise<{ readEarly: Map<number, ReadRecord>; starter: number; head: Head | undefined }> {
  const readEarly = new Map<number, ReadRecord>();
  for (const index of records.length > 1 ? alonesInLane(records) : []) {
    const r = readRecord(records[index] as QueueRecord, allowedNames);
    readEarly.set(index, r);
    const head = startHead(writer, r, deadlineMs);
    if (head === undefined) continue;
    await setImmediate();
    return { readEarly, starter: index, head };
  }
  return { readEarly, starter: -1, head: undefined };
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
export interface Head {
  readonly result: Promise<DispatchResult>;
  readonly calls: number;
  /** The user-and-attribute pairs the started calls write. */
  readonly pairs: ReadonlySet<string>;
  readonly accounts: ReadonlySet<string>;
  /** The record's users less those pairs. */
  readonly rest: readonly UserUpdate[];
}

function startHead(writer: Writer, read: ReadRecord, deadlineMs: number): Head | undefined {
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
