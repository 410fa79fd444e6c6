/** The slot grid's ledger in memory, with the DynamoDB ledger's rules: for the pacer's unit tests. */
import type { GridPenalty, LeaseRequest, LeaseResult, SlotLedger } from '../../lib/pacing/slot-ledger.ts';

export class InMemorySlotLedger implements SlotLedger {
  readonly #bookedUntil = new Map<string, number>();
  readonly #penalty = new Map<string, GridPenalty>();
  /** Every lease handed out, in order. */
  readonly leases: {
    readonly command: string;
    readonly firstSlotMs: number;
    readonly count: number;
    readonly spacingMs: number;
  }[] = [];
  readonly lowered: { readonly command: string; readonly rate: number; readonly atMs: number }[] = [];
  /** While set, every call throws it (the table is gone). */
  failure: Error | undefined;

  lease(request: LeaseRequest): Promise<LeaseResult> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const { command, count, nowMs, spacingMs, horizonMs } = request;
    const booked = this.#bookedUntil.get(command);
    const span = count * spacingMs;
    let end: number;
    if (booked === undefined || booked <= nowMs) end = nowMs + span;
    else if (booked <= nowMs + horizonMs - span) end = booked + span;
    else return Promise.resolve({ kind: 'full' });
    this.#bookedUntil.set(command, end);
    this.leases.push({ command, firstSlotMs: end - span, count, spacingMs });
    return Promise.resolve({ kind: 'leased', firstSlotMs: end - span, penalty: this.#penalty.get(command) });
  }

  lowerRate(command: string, rate: number, nowMs: number, cooldownMs: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const last = this.#penalty.get(command);
    if (last === undefined || last.atMs < nowMs - cooldownMs) {
      this.#penalty.set(command, { rate, atMs: nowMs });
      this.lowered.push({ command, rate, atMs: nowMs });
    }
    return Promise.resolve();
  }
}
