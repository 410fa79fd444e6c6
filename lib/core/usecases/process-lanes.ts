/**
 * The worker's invocation on the lanes queue: its event-source batch, and what it gathers beyond it.
 *
 * A FIFO event source hands the worker at most 10 records, so a stream of single-user webhooks would make calls
 * of at most 10 users. So the invocation receives more lane records itself (`LaneSource`, 10 at a time) and puts
 * them through the same merge as its batch: a round is filled while the budget is busy (no call could start now)
 * and goes as soon as one could, so calls are small when the budget is idle and full at saturation.
 *
 * Why order holds: SQS returns nothing from a message group while one of its messages is in flight, so a gathered
 * record is always its lane's head; it is deleted only after IM confirmed it (or it was dead-lettered), and a
 * failed one is left to the backoff the batch sets, with every later record of its lane. Deletes go in lane
 * order: a record whose delete fails keeps the later records of its lane, and they all come back after the
 * visibility timeout, in order, and are written again.
 *
 * The event batch's records are deleted the same way as soon as their round is done, so their lanes take new
 * records while the invocation goes on gathering (left to Lambda alone, a lane of the event batch stayed locked until
 * the invocation ended, up to `gather.forMs` later). Lambda deletes them again after the partial batch response: SQS
 * answers a delete with a receipt handle still within its visibility timeout with success, whether or not the message
 * is still there. One whose early delete failed stays locked until Lambda deletes it.
 */
import { processLaneBatch, type LaneBatchDeps, type LaneBatchOutcome } from './process-lane-batch.ts';
import { groupBy } from './group-by.ts';
import { QUEUE_BATCH_MAX, type LaneSource, type QueueRecord } from '../ports.ts';

/** How an invocation gathers. */
export interface GatherOptions {
  /**
   * How long an invocation goes on gathering after it began, ms. Default 1,000: its event batch's lanes wait for
   * the invocation to end, so this bounds their extra lag.
   */
  readonly forMs?: number;
  /** Most records in one round, the event batch's included. Default 100 (10 receives): a call of 100 single-user records. */
  readonly maxRecords?: number;
  /**
   * Most body bytes in one round. Default 6,000,000, the payload of one Lambda event batch: two rounds in flight stay
   * well inside 256 MB however large the lane messages are.
   */
  readonly maxBytes?: number;
  /**
   * Rounds in flight at once. Default 2: the next round is gathered and read while the calls of the one before wait for
   * their slots, so the budget never waits on SQS or parsing. Rounds never share a lane: SQS returns nothing from a
   * group whose message is in flight, and a round's records stay in flight until it ends.
   */
  readonly roundsInFlight?: number;
  /** No round starts with less time than this left before the deadline, ms. Default 5,000 (an IM attempt's timeout). */
  readonly reserveMs?: number;
}

export interface LanesDeps extends LaneBatchDeps {
  /** Where more records come from; undefined: the event batch alone. */
  readonly source?: LaneSource;
  /** Whether a call could start now: a round then goes with what it holds. Default: never idle (rounds fill up). */
  readonly budgetIdle?: () => boolean;
  /**
   * Told about how many calls the round being gathered will need (its bytes over a full call's), each time it grows:
   * the budget books their starts while the round fills, so its first call does not wait a lease's round trip.
   */
  readonly expectCalls?: (calls: number) => void;
  /** Told the records of each round before they are processed (the lane-slot floor holds their lanes). */
  readonly onRound?: (records: readonly QueueRecord[]) => void;
  readonly gather?: GatherOptions;
}

export interface LanesOutcome extends LaneBatchOutcome {
  /** Records received beyond the event batch. */
  readonly gathered: number;
  /** Rounds processed (1: the event batch alone). */
  readonly rounds: number;
  /** ReceiveMessage calls made. */
  readonly receives: number;
  /** Gathered records the worker finished but could not delete (they come back and are written again). */
  readonly undeleted: number;
  /** Their ids, and those of the later records of their lanes, left undeleted so the lane comes back in order. */
  readonly undeletedIds: readonly string[];
  /** Failed gathered records: the backoff set on them brings them back (the event batch's are in `failedIds`). */
  readonly gatheredFailedIds: readonly string[];
}

const DEFAULTS = {
  forMs: 1_000,
  maxRecords: 100,
  maxBytes: 6_000_000,
  roundsInFlight: 2,
  reserveMs: 5_000,
} as const satisfies Required<GatherOptions>;
/**
 * About the bytes of 100 users in lane messages (`{"To_Account":"…","Attrs":{…}}` ≈ 60–100 bytes each): a batch
 * this large already fills a call without gathering.
 */
const FULL_CALL_BYTES = 8_000;
const bodyBytes = (records: readonly QueueRecord[]): number => records.reduce((n, r) => n + r.body.length, 0);

export async function processLanes(
  deps: LanesDeps,
  batch: readonly QueueRecord[],
  deadlineMs: number,
): Promise<LanesOutcome> {
  return new Invocation(deps, batch, deadlineMs).run();
}

/** One lanes invocation: its rounds, at most `roundsInFlight` at once, gathered until the lanes are drained. */
class Invocation {
  readonly #deps: LanesDeps;
  readonly #batch: readonly QueueRecord[];
  readonly #deadlineMs: number;
  readonly #options: Required<GatherOptions>;
  readonly #now: () => number;
  readonly #started: number;
  readonly #inBatch: ReadonlySet<string>;
  readonly #total: Mutable<LanesOutcome> = {
    failedIds: [],
    received: 0,
    applied: 0,
    deadLettered: 0,
    calls: 0,
    gathered: 0,
    rounds: 0,
    receives: 0,
    undeleted: 0,
    undeletedIds: [],
    gatheredFailedIds: [],
  };
  #drained: boolean;

  constructor(deps: LanesDeps, batch: readonly QueueRecord[], deadlineMs: number) {
    this.#deps = deps;
    this.#batch = batch;
    this.#deadlineMs = deadlineMs;
    this.#options = { ...DEFAULTS, ...deps.gather };
    this.#now = deps.now ?? Date.now;
    this.#started = this.#now();
    this.#inBatch = new Set(batch.map((r) => r.id));
    this.#drained = deps.source === undefined;
  }

  async run(): Promise<LanesOutcome> {
    const running = new Set<Promise<void>>();
    let round: QueueRecord[] = [...this.#batch];
    let roundBytes = bodyBytes(round);
    this.#expectCalls(roundBytes);
    // An event batch that already holds about a full call goes at once when the budget is idle (a bulk lane's first
    // calls need no gathering); when it is busy, gathering first saves the batch's partly filled last call.
    let fillFirst = roundBytes < FULL_CALL_BYTES || !this.#idle();
    for (;;) {
      // Fill the round while no call could start anyway; an empty receive means the lanes are drained for now.
      while (fillFirst && this.#wantsMore(round, roundBytes)) roundBytes = await this.#receiveInto(round, roundBytes);
      if (round.length > 0) {
        const work = this.#runRound(round).finally(() => running.delete(work));
        running.add(work);
      }
      if (this.#drained || !this.#timeLeft()) break;
      // The next round is gathered while this one's calls wait for their slots; no more than `roundsInFlight` at once.
      if (running.size >= this.#options.roundsInFlight) await Promise.race(running);
      round = [];
      roundBytes = 0;
      fillFirst = true;
    }
    await Promise.all(running);
    return this.#total;
  }

  /** Whether to receive more before the round goes: room left, the lanes not drained, no call could start now. */
  #wantsMore(round: readonly QueueRecord[], roundBytes: number): boolean {
    const { maxRecords, maxBytes } = this.#options;
    return (
      !this.#drained &&
      round.length < maxRecords &&
      roundBytes < maxBytes &&
      !(round.length > 0 && this.#idle()) &&
      this.#timeLeft()
    );
  }

  /** Receives up to a batch of records into the round; returns the round's bytes after it. */
  async #receiveInto(round: QueueRecord[], roundBytes: number): Promise<number> {
    const more = await (this.#deps.source as LaneSource).receive(
      Math.min(QUEUE_BATCH_MAX, this.#options.maxRecords - round.length),
    );
    this.#total.receives++;
    if (more.length === 0) this.#drained = true;
    round.push(...more);
    this.#total.gathered += more.length;
    const bytes = roundBytes + bodyBytes(more);
    if (more.length > 0) this.#expectCalls(bytes);
    return bytes;
  }

  /** A round from merge to deletes; its records stay in flight (their lanes locked) until it ends. */
  async #runRound(round: readonly QueueRecord[]): Promise<void> {
    this.#deps.onRound?.(round);
    const outcome = await processLaneBatch(this.#deps, round, this.#deadlineMs);
    add(this.#total, outcome, this.#inBatch);
    const failed = new Set(outcome.failedIds);
    const finished = round.filter((r) => !failed.has(r.id));
    const { source } = this.#deps;
    if (finished.length > 0 && source !== undefined) {
      // An event batch record left undeleted here is deleted by Lambda after the invocation: only gathered ones count.
      const undeleted = (await deleteInLaneOrder(source, finished)).filter((id) => !this.#inBatch.has(id));
      this.#total.undeleted += undeleted.length;
      this.#total.undeletedIds = [...this.#total.undeletedIds, ...undeleted];
    }
  }

  #idle(): boolean {
    return this.#deps.budgetIdle?.() ?? false;
  }

  #timeLeft(): boolean {
    return (
      this.#now() - this.#started < this.#options.forMs && this.#deadlineMs - this.#now() > this.#options.reserveMs
    );
  }

  /** Tells the budget about how many calls the round being gathered will need (its bytes over a full call's). */
  #expectCalls(bytes: number): void {
    if (bytes > 0) this.#deps.expectCalls?.(Math.ceil(bytes / FULL_CALL_BYTES));
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function add(total: Mutable<LanesOutcome>, outcome: LaneBatchOutcome, inBatch: ReadonlySet<string>): void {
  total.rounds++;
  total.failedIds = [...total.failedIds, ...outcome.failedIds.filter((id) => inBatch.has(id))];
  total.gatheredFailedIds = [...total.gatheredFailedIds, ...outcome.failedIds.filter((id) => !inBatch.has(id))];
  total.received += outcome.received;
  total.applied += outcome.applied;
  total.deadLettered += outcome.deadLettered;
  total.calls += outcome.calls;
  if (outcome.redeliveryError !== undefined) total.redeliveryError = outcome.redeliveryError;
}

/**
 * Deletes finished records lane by lane in order: one record of each lane per call, and a lane whose delete failed
 * keeps the rest of its records. A record left undeleted comes back after its visibility timeout and is written again;
 * were a later record of its lane deleted, that older write would land after the newer one. Kept, the later records
 * come back behind it and are written again in order.
 * @returns the ids left undeleted
 */
async function deleteInLaneOrder(source: LaneSource, records: readonly QueueRecord[]): Promise<string[]> {
  const lanes = [...groupBy(records, (r) => r.group).values()].map((list) => [...list]);
  const undeleted: string[] = [];
  while (lanes.some((lane) => lane.length > 0)) {
    const heads = lanes.filter((lane) => lane.length > 0).map((lane) => lane[0] as QueueRecord);
    let failed: ReadonlySet<string>;
    try {
      failed = new Set(await source.delete(heads));
    } catch {
      failed = new Set(heads.map((r) => r.id));
    }
    for (const lane of lanes) {
      const head = lane[0];
      if (head === undefined) continue;
      if (failed.has(head.id)) undeleted.push(...lane.splice(0).map((r) => r.id));
      else lane.shift();
    }
  }
  return undeleted;
}
