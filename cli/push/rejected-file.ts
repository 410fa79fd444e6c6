import { closeSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import type { RejectedItem } from './check-item.ts';

/** Length and line count of the rejected-lines file. */
export interface RejectedState {
  readonly bytes: number;
  readonly count: number;
}

/**
 * `FILE.rejected.ndjson`: one JSON line per refused position. Lines are held until `flush` writes them
 * synchronously (at each message boundary), so what a checkpoint counts is on disk even if the process is killed
 * right after; a resume cuts the file back to the checkpoint's length before appending, so no line is written
 * twice and none is lost.
 */
export class RejectedFile {
  readonly path: string;
  readonly #positionName: 'line' | 'entry';
  #fd: number | undefined;
  #pending = '';
  #pendingCount = 0;
  #bytes: number;
  #count: number;

  constructor(path: string, positionName: 'line' | 'entry', resumeAt?: RejectedState) {
    this.path = path;
    this.#positionName = positionName;
    this.#bytes = resumeAt?.bytes ?? 0;
    this.#count = resumeAt?.count ?? 0;
    if (resumeAt === undefined) {
      this.#fd = openSync(path, 'w');
    } else {
      this.#fd = openSync(path, 'a');
      const size = statSync(path).size;
      if (size > resumeAt.bytes) ftruncateSync(this.#fd, resumeAt.bytes);
    }
  }

  add(item: RejectedItem): void {
    const { position, ...rest } = item;
    this.#pending += `${JSON.stringify({ [this.#positionName]: position, ...rest })}\n`;
    this.#pendingCount++;
  }

  /** Lines added and not yet written. */
  get pendingCount(): number {
    return this.#pendingCount;
  }

  /** Writes what was added. */
  flush(): void {
    if (this.#pending === '' || this.#fd === undefined) return;
    const data = Buffer.from(this.#pending);
    let offset = 0;
    while (offset < data.length) offset += writeSync(this.#fd, data, offset);
    this.#bytes += data.length;
    this.#count += this.#pendingCount;
    this.#pending = '';
    this.#pendingCount = 0;
  }

  /** What is on disk, for a checkpoint. */
  get written(): RejectedState {
    return { bytes: this.#bytes, count: this.#count };
  }

  /** Lines written and waiting. */
  get count(): number {
    return this.#count + this.#pendingCount;
  }

  /** Closes the file; lines not flushed are dropped (an interrupted push reads their positions again). */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
