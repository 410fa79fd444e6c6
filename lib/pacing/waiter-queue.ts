/** Callers waiting for a start, first-in first-out, each with the latest time it may still be served. */
import type { StartTicket } from './call-pacer.ts';

export interface Waiter {
  readonly resolve: (ticket: StartTicket | undefined) => void;
  /** After this time the caller leaves without a start. */
  readonly latest: number;
}

/** A FIFO whose head moves by index: no O(n) shift per start, compacted once the dead prefix dominates. */
export class WaiterQueue {
  #items: Waiter[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(waiter: Waiter): void {
    this.#items.push(waiter);
  }

  peek(): Waiter | undefined {
    return this.#items[this.#head];
  }

  shift(): Waiter | undefined {
    const waiter = this.#items[this.#head];
    this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return waiter;
  }
}
