/**
 * The worker fleet's static floor: one call per floor slot for the whole fleet, however many copies run.
 *
 * Why: the fleet's worst second must fit IM's limit by construction, whichever copies reach the budget
 * table, and a floor per copy or per invocation adds up with the fleet's size (ten lanes invocations each
 * allowed one call in a second can all take it in the same second). So the floor is not divided among
 * copies but handed round by the clock:
 *
 * - wall-clock time is cut into slots of `1000 / floorRate` ms (slot k starts at k × slotMs, epoch ms),
 *   and slot k belongs to lane `k mod laneCount`;
 * - an invocation may start one call in slot k only if it holds that lane's records (SQS delivers a FIFO
 *   group to one consumer at a time, so at most one invocation in the fleet holds a lane) and it began
 *   before slot k did (so an invocation that takes the lane over mid-slot cannot use the slot again).
 *
 * Every slot thus starts at most one floor call in the fleet. A floor slower than one call a second opens
 * only in the first `slotMs − 1000` ms of each slot, so two floor calls are always more than a second apart
 * and a 1 s window holds at most one; a faster floor opens its slots whole, and a 1 s window meets at most
 * `ceil(floorRate) + 1` of them ({@link floorStartsInWorstSecond}). The grid is sized around that. Copies
 * agree on slots through their wall clocks; the budget's margin covers their skew.
 */
import type { Clock } from './clock.ts';
import type { StartTicket } from './call-pacer.ts';

/** What a pacer draws from a floor; a plain `RateLimiter` is one that is always open. */
export interface Floor {
  readonly configuredRate: number;
  tryAcquire(): StartTicket | undefined;
  nextStartInMs(): number;
  startsWithin(ms: number): number;
  penalize(): void;
}

/** Most floor calls the whole fleet can start in any 1 s window, for a floor of `floorRate` calls/s. */
export function floorStartsInWorstSecond(floorRate: number): number {
  return floorRate < 1 ? 1 : Math.ceil(floorRate) + 1;
}

/** How long a slot stays open from its start, ms: all of it, or for a slot over 1 s all but its last second. */
function openMsOf(slotMs: number): number {
  return slotMs > 1000 ? slotMs - 1000 : slotMs;
}

/** A floor slot counts from its own time: the ticket has nothing to move. */
const SLOT_TICKET: StartTicket = { sent: () => undefined };

export interface LaneSlotFloorOptions {
  /** The whole worker fleet's floor, calls/s. */
  readonly floorRate: number;
  /** Lanes the slots are handed round (the lanes queue's message groups). */
  readonly laneCount: number;
  /** Wall clock, epoch ms: copies on different machines must agree on slot numbers. Default `Date.now`. */
  readonly now?: Clock;
}

/** A lanes invocation in progress in this copy. */
interface HeldLanes {
  readonly beganAt: number;
  readonly lanes: ReadonlySet<number>;
}

export class LaneSlotFloor implements Floor {
  readonly #slotMs: number;
  readonly #openMs: number;
  readonly #laneCount: number;
  readonly #now: Clock;
  /** Invocations in progress here (more than one only where pollers run side by side in one process). */
  readonly #held = new Set<HeldLanes>();
  /** Slots this copy has used or given up, up to this one; no slot is used twice. */
  #usedThrough = Number.NEGATIVE_INFINITY;

  constructor(options: LaneSlotFloorOptions) {
    if (!(options.floorRate > 0))
      throw new RangeError(`LaneSlotFloor: floorRate must be > 0, got ${options.floorRate}`);
    if (!Number.isInteger(options.laneCount) || options.laneCount < 1)
      throw new RangeError(`LaneSlotFloor: laneCount must be a positive integer, got ${options.laneCount}`);
    this.#slotMs = 1000 / options.floorRate;
    this.#openMs = openMsOf(this.#slotMs);
    this.#laneCount = options.laneCount;
    this.#now = options.now ?? Date.now;
  }

  get configuredRate(): number {
    return 1000 / this.#slotMs;
  }

  /** A lanes invocation holding these lanes begins; call the returned function when it ends. */
  begin(lanes: Iterable<number>): () => void {
    const held: HeldLanes = { beganAt: this.#now(), lanes: new Set(lanes) };
    this.#held.add(held);
    return () => void this.#held.delete(held);
  }

  tryAcquire(): StartTicket | undefined {
    const now = this.#now();
    const slot = this.#firstOpen(now);
    if (slot * this.#slotMs > now || !this.#usable(slot)) return undefined;
    this.#usedThrough = slot;
    return SLOT_TICKET;
  }

  nextStartInMs(): number {
    const now = this.#now();
    const next = this.#nextUsable(this.#firstOpen(now));
    return next === undefined ? Number.POSITIVE_INFINITY : Math.max(0, next * this.#slotMs - now);
  }

  startsWithin(ms: number): number {
    const now = this.#now();
    const last = Math.floor((now + ms) / this.#slotMs);
    let count = 0;
    for (let slot = this.#firstOpen(now); slot <= last; slot++) if (this.#usable(slot)) count++;
    return count;
  }

  /** A rate-limit answer: this copy skips its floor for the rest of this slot and the next one. */
  penalize(): void {
    this.#usedThrough = Math.max(this.#usedThrough, Math.floor(this.#now() / this.#slotMs) + 1);
  }

  /** The first slot this copy has not used whose open part has not passed: the one now, or a later one. */
  #firstOpen(now: number): number {
    const current = Math.floor(now / this.#slotMs);
    return Math.max(now >= current * this.#slotMs + this.#openMs ? current + 1 : current, this.#usedThrough + 1);
  }

  /** Whether an invocation here that began before `slot` holds the lane the slot belongs to. */
  #usable(slot: number): boolean {
    const start = slot * this.#slotMs;
    const lane = slot % this.#laneCount;
    for (const held of this.#held) if (held.beganAt < start && held.lanes.has(lane)) return true;
    return false;
  }

  /** The first slot from `from` (within one round of the lanes) this copy may use. */
  #nextUsable(from: number): number | undefined {
    if (this.#held.size === 0) return undefined;
    for (let slot = from; slot <= from + this.#laneCount + 1; slot++) if (this.#usable(slot)) return slot;
    return undefined;
  }
}
