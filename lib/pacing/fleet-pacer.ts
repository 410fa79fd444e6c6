/**
 * One copy's pacing for one IM command when the fleet shares a slot grid ({@link SlotLedger}).
 *
 * A copy starts calls on two sources: its own static floor (a {@link Floor}, never shared, so the fleet
 * stays within IM's limit when the grid's table is gone) and slots it leases from the grid, which holds
 * the rest of the limit for whoever has work. Slots are leased for calls already waiting (or announced), at most
 * `maxLease` at a time and `aheadMs` ahead of now: a copy with a queue of calls always has its next slots booked
 * (only the first call of a burst waits on a lease, and not even that one when its caller announced it with
 * `expect` while it prepared), and a copy with no work holds none.
 *
 * A slot is used at its time, or up to `lateToleranceMs` after it; a slot further in the past (a copy frozen
 * between invocations, a blocked event loop) is dropped, never caught up, so late starts cannot bunch up
 * with other copies' punctual ones. A lease that fails (no table, a timeout) leaves the copy on its floor
 * and is tried again after a backoff; a lease never holds up a call that the floor can start.
 */
import { realSleep } from './clock.ts';
import type { Clock, Sleep } from './clock.ts';
import type { CallPacer, StartTicket } from './call-pacer.ts';
import { insertSorted } from './sorted.ts';
import { WaiterQueue } from './waiter-queue.ts';
import type { Floor } from './lane-slot-floor.ts';
import type { GridPenalty, SlotLedger } from './slot-ledger.ts';

export interface FleetPacerOptions {
  /** The IM command whose grid this paces (IM limits each command separately). */
  readonly command: string;
  /** The shared grid; undefined: this copy runs on its floor alone. */
  readonly ledger: SlotLedger | undefined;
  /** The grid's full rate for the whole fleet, calls/s: IM's limit less the margin and every copy's floor. */
  readonly gridRate: number;
  /** This copy's static floor; undefined for a copy without one (the API spills instead). */
  readonly floor: Floor | undefined;
  /** How far ahead of now the fleet may book the grid. Default 1000 ms. */
  readonly horizonMs?: number;
  /** How far ahead of now one copy books for its own queue. Default 200 ms. */
  readonly aheadMs?: number;
  /** Most slots in one lease. Default 10 (about 100 ms of the grid at full rate). */
  readonly maxLease?: number;
  /**
   * How late a slot may still be used. Default 10 ms: every ms of lateness lets a late start share a window
   * with punctual ones of other copies (at ~10 ms spacing, 20 ms of lateness is two calls more in a window).
   */
  readonly lateToleranceMs?: number;
  /** Backoff after a failed lease: first and longest wait, ms. Default 1,000 and 30,000. */
  readonly retryFirstMs?: number;
  readonly retryMaxMs?: number;
  /**
   * Factor a rate-limit answer multiplies the shared rate by. Default 0.9: a single answer at the fleet's
   * ceiling (arrival jitter) then costs about 5 calls, not the ~25 of 0.8 (measured in bench:burst); answers
   * that go on (another system calling the same app) still compound, 0.9, 0.81, …
   */
  readonly penaltyFactor?: number;
  /** Rate-limit answers closer together than this count once, fleet-wide. Default 1000 ms. */
  readonly penaltyCooldownMs?: number;
  /** Wall clock, epoch ms: slot times are shared by copies on different machines. Default `Date.now`. */
  readonly now?: Clock;
  readonly sleep?: Sleep;
  /** Told about every ledger failure; the copy goes on with its floor. */
  readonly onLedgerError?: (error: unknown) => void;
}

/** Longest nap of the pump while callers wait, ms: a lease landing mid-nap is noticed this soon. */
const NAP_MS = 10;
/** Nap while a lease is in flight, ms: its slots may start at once. */
const LEASE_NAP_MS = 2;
/** Longest lead given to a lease's first slot, ms: its round trip, so slots do not arrive already late. */
const MAX_LEAD_MS = 100;

export class FleetPacer implements CallPacer {
  readonly #command: string;
  readonly #ledger: SlotLedger | undefined;
  readonly #gridRate: number;
  readonly #floor: Floor | undefined;
  readonly #horizonMs: number;
  readonly #aheadMs: number;
  readonly #maxLease: number;
  readonly #lateMs: number;
  readonly #retryFirstMs: number;
  readonly #retryMaxMs: number;
  readonly #penaltyFactor: number;
  readonly #cooldownMs: number;
  readonly #now: Clock;
  readonly #sleep: Sleep;
  readonly #onLedgerError: ((error: unknown) => void) | undefined;

  /** Leased slot times not yet used, ascending. */
  #slots: number[] = [];
  readonly #waiters = new WaiterQueue();
  #pumping = false;
  #leasing = false;
  /** No lease before this time (after a failure, or while the grid is booked past the horizon). */
  #leaseAfter = Number.NEGATIVE_INFINITY;
  /** The last lease failed: until one succeeds, only the floor can be counted on. */
  #ledgerDown = false;
  #retryMs: number;
  /** Recent lease round trip, ms (a new high at once, else a moving average): the lead given to a lease's first slot. */
  #leaseRttMs = 20;
  #penalty: GridPenalty | undefined;
  #penaltySentAt = Number.NEGATIVE_INFINITY;
  #dropped = 0;
  #leased = 0;
  /** Calls announced by `expect` that have not asked yet, and until when the announcement counts (`aheadMs`). */
  #expected = 0;
  #expectedUntil = Number.NEGATIVE_INFINITY;

  constructor(options: FleetPacerOptions) {
    if (!(options.gridRate > 0) && options.ledger !== undefined)
      throw new RangeError(`FleetPacer: gridRate must be > 0, got ${options.gridRate}`);
    this.#command = options.command;
    this.#ledger = options.ledger;
    this.#gridRate = options.gridRate;
    this.#floor = options.floor;
    this.#horizonMs = options.horizonMs ?? 1000;
    this.#aheadMs = options.aheadMs ?? 200;
    this.#maxLease = options.maxLease ?? 10;
    this.#lateMs = options.lateToleranceMs ?? 10;
    this.#retryFirstMs = options.retryFirstMs ?? 1000;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
    this.#retryMs = this.#retryFirstMs;
    this.#penaltyFactor = options.penaltyFactor ?? 0.9;
    this.#cooldownMs = options.penaltyCooldownMs ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? realSleep;
    this.#onLedgerError = options.onLedgerError;
  }

  get configuredRate(): number {
    return (this.#floor?.configuredRate ?? 0) + (this.#ledger === undefined ? 0 : this.#gridRate);
  }

  /** How many callers are waiting for a start. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Slots leased so far, and slots dropped because they were already past when their turn came. */
  get stats(): { readonly leased: number; readonly dropped: number } {
    return { leased: this.#leased, dropped: this.#dropped };
  }

  /** The grid's rate as this copy last learnt it: lowered by rate-limit answers, climbing back 10 % a second. */
  gridRateAt(now: number): number {
    const penalty = this.#penalty;
    if (penalty === undefined) return this.#gridRate;
    const recovery = Math.max(1, Math.ceil(this.#gridRate / 10));
    const windows = Math.max(0, Math.floor((now - penalty.atMs) / 1000));
    return Math.min(this.#gridRate, penalty.rate + windows * recovery);
  }

  acquire(): Promise<StartTicket>;
  acquire(maxWaitMs: number): Promise<StartTicket | undefined>;
  acquire(maxWaitMs = Number.POSITIVE_INFINITY): Promise<StartTicket | undefined> {
    const now = this.#now();
    this.#dropStale(now);
    if (this.#expected > 0) this.#expected--;
    if (this.waiting === 0) {
      const ticket = this.#startNow(now);
      if (ticket !== undefined) return Promise.resolve(ticket);
    }
    if (maxWaitMs <= 0) return Promise.resolve(undefined);
    return new Promise<StartTicket | undefined>((resolve) => {
      this.#waiters.push({ resolve, latest: now + maxWaitMs });
      this.#lease(now);
      void this.#pump();
    });
  }

  penalize(): void {
    this.#floor?.penalize();
    const ledger = this.#ledger;
    const now = this.#now();
    if (ledger === undefined || now - this.#penaltySentAt < this.#cooldownMs) return;
    this.#penaltySentAt = now;
    const rate = Math.max(1, this.gridRateAt(now) * this.#penaltyFactor);
    this.#penalty = { rate, atMs: now };
    // Shared, so every copy slows down, not only the one that was refused.
    ledger
      .lowerRate(this.#command, rate, now, this.#cooldownMs)
      .catch((error: unknown) => this.#onLedgerError?.(error));
  }

  /**
   * Books slots for calls about to ask (at most one lease's worth): a worker's first call then starts when the
   * lease it would have waited for is already back. Slots booked for calls that never come are dropped once past,
   * as a frozen copy's are: at most `maxLease` slots of the grid, once per announcement.
   */
  expect(calls: number): void {
    const now = this.#now();
    this.#expected = Math.max(0, Math.min(this.#maxLease, Math.ceil(calls)));
    this.#expectedUntil = now + this.#aheadMs;
    this.#lease(now);
  }

  startsWithin(ms: number): number {
    const now = this.#now();
    this.#dropStale(now);
    const held = this.#slots.filter((t) => t <= now + ms).length;
    const floor = this.#floor?.startsWithin(ms) ?? 0;
    // Optimistic about the grid: the rest of the fleet competes for it, and `acquire(maxWait)` has the last word.
    // After a failed lease the grid counts again once the backoff is over, so a caller's acquire tries a lease.
    const gridUp = this.#ledger !== undefined && (!this.#ledgerDown || now >= this.#leaseAfter);
    const grid = gridUp ? Math.floor((ms * this.gridRateAt(now)) / 1000) : 0;
    return Math.max(0, held + floor + grid - this.waiting);
  }

  /** A start now from a due slot or the floor, or undefined. */
  #startNow(now: number): StartTicket | undefined {
    const first = this.#slots[0];
    if (first !== undefined && first <= now) {
      this.#slots.shift();
      return this.#slotTicket(first);
    }
    const floor = this.#floor?.tryAcquire();
    return floor === undefined ? undefined : this.#slotTicket(now);
  }

  /** A slot counts from its own time: the ticket has nothing to move, and is late past the tolerance. */
  #slotTicket(slotMs: number): StartTicket {
    return { sent: () => undefined, late: () => this.#now() > slotMs + this.#lateMs };
  }

  #dropStale(now: number): void {
    let stale = 0;
    while (stale < this.#slots.length && (this.#slots[stale] ?? 0) < now - this.#lateMs) stale++;
    if (stale === 0) return;
    this.#slots.splice(0, stale);
    this.#dropped += stale;
  }

  /** Leases slots for the callers waiting beyond the slots held, unless a lease is in flight or not due. */
  #lease(now: number): void {
    const ledger = this.#ledger;
    if (ledger === undefined || this.#leasing || now < this.#leaseAfter) return;
    const expected = now < this.#expectedUntil ? this.#expected : 0;
    const need = this.waiting + expected - this.#slots.length;
    if (need <= 0) return;
    const last = this.#slots.at(-1);
    if (last !== undefined && last > now + this.#aheadMs) return;
    // Rounded up to the µs: with 1000/rate in floating point, rate + 1 slots could fit a 1 s window by a hair.
    const spacingMs = Math.ceil(1_000_000 / this.gridRateAt(now)) / 1000;
    // A lease spans at most half the horizon, or a slow grid (a few calls/s) could never fit one.
    const count = Math.max(1, Math.min(this.#maxLease, need, Math.floor(this.#horizonMs / 2 / spacingMs)));
    const lead = Math.min(MAX_LEAD_MS, this.#leaseRttMs);
    this.#leasing = true;
    ledger.lease({ command: this.#command, count, nowMs: now + lead, spacingMs, horizonMs: this.#horizonMs }).then(
      (result) => {
        const done = this.#now();
        // Up at once, down slowly: a slot that arrives late is lost, a lead a little long only waits.
        this.#leaseRttMs = Math.max(done - now, 0.8 * this.#leaseRttMs + 0.2 * (done - now));
        this.#leasing = false;
        this.#ledgerDown = false;
        this.#retryMs = this.#retryFirstMs;
        if (result.kind === 'full') {
          // Booked a horizon ahead by the rest of the fleet: a slot frees up every spacing; look again then.
          this.#leaseAfter = done + spacingMs;
        } else {
          this.#penalty = newer(this.#penalty, result.penalty);
          for (let i = 0; i < count; i++) insertSorted(this.#slots, result.firstSlotMs + i * spacingMs);
          this.#leased += count;
        }
        void this.#pump();
      },
      (error: unknown) => {
        this.#leasing = false;
        this.#ledgerDown = true;
        this.#leaseAfter = this.#now() + this.#retryMs;
        this.#retryMs = Math.min(this.#retryMaxMs, this.#retryMs * 2);
        this.#onLedgerError?.(error);
        void this.#pump();
      },
    );
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.waiting > 0) {
        const now = this.#now();
        this.#dropStale(now);
        const waiter = this.#waiters.peek();
        if (waiter === undefined) break;
        // A caller whose time ran out leaves without a start; the next one gets it.
        const ticket = now > waiter.latest ? undefined : this.#startNow(now);
        if (ticket !== undefined || now > waiter.latest) {
          this.#waiters.shift();
          waiter.resolve(ticket);
          continue;
        }
        this.#lease(now);
        const nextSlot = this.#slots[0] ?? Number.POSITIVE_INFINITY;
        const nextFloor = this.#floor === undefined ? Number.POSITIVE_INFINITY : now + this.#floor.nextStartInMs();
        const nap = now + (this.#leasing ? LEASE_NAP_MS : NAP_MS);
        await this.#sleep(Math.max(0, Math.min(nextSlot, nextFloor, waiter.latest + 1, nap) - now));
      }
    } finally {
      this.#pumping = false;
    }
  }
}

/** The later of two penalty reports. */
function newer(a: GridPenalty | undefined, b: GridPenalty | undefined): GridPenalty | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.atMs >= a.atMs ? b : a;
}
