/**
 * The backfill loop: read the file in order, check every position with the gateway's rules, pack the good users
 * into messages, send them in order, and record how far it got. Rejected positions go to `FILE.rejected.ndjson`.
 */
import { rm } from 'node:fs/promises';
import { UsageError } from '../exit-codes.ts';
import { checkItem } from './check-item.ts';
import { removeCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { Destination } from './destination.ts';
import { positionKey } from './input-format.ts';
import { MessagePacker, type PackedMessage } from './message-packer.ts';
import type { ProgressReporter, PushCounts } from './progress.ts';
import { readInput } from './read-input.ts';
import { RejectedFile } from './rejected-file.ts';

export interface PushRunOptions {
  /** Where the run starts: a fresh checkpoint (nothing sent) or the one being resumed. */
  readonly start: Checkpoint;
  readonly resuming: boolean;
  readonly checkpointPath: string;
  readonly rejectedPath: string;
  readonly allowedNames: ReadonlySet<string> | undefined;
  /** None: `--dry-run`, only the rules are checked. */
  readonly destination: Destination | undefined;
  readonly progress: ProgressReporter;
  /** True once Ctrl-C asked to stop: the batch in flight is finished and checkpointed, then the run ends. */
  readonly stopRequested: () => boolean;
}

export interface PushResult {
  /** Positions read by this run. */
  readonly read: number;
  /** Positions rejected in all, those of the run resumed included. */
  readonly rejected: number;
  /** Positions rejected before this run (a resume). */
  readonly rejectedBefore: number;
  readonly usersSent: number;
  readonly messagesSent: number;
  /** Every position up to here is sent or rejected. */
  readonly sentThrough: number;
  readonly complete: boolean;
  readonly interrupted: boolean;
  /** Why sending stopped, when it failed. */
  readonly error?: unknown;
}

/** In a dry run nothing closes messages; rejected lines are written in blocks of this many. */
const DRY_RUN_FLUSH_LINES = 1000;

export async function runPush(options: PushRunOptions): Promise<PushResult> {
  const run = new PushRun(options);
  try {
    const interrupted = await run.readAll();
    if (!interrupted) await run.finish();
    return run.result(interrupted);
  } catch (error: unknown) {
    // A file the rules cannot read at all (a CSV header naming an unregistered attribute, say) is a usage error.
    // Refused before anything was sent, the push leaves nothing behind: no checkpoint to resume, no empty report.
    if (error instanceof UsageError) {
      await run.forgetIfNothingSent();
      throw error;
    }
    return run.result(false, error);
  } finally {
    run.close();
  }
}

/** One run of a push: what it has read, rejected and sent, and its checkpoint. */
class PushRun {
  readonly #options: PushRunOptions;
  readonly #start: Checkpoint;
  readonly #positionName: ReturnType<typeof positionKey>;
  readonly #rejected: RejectedFile;
  readonly #packer: MessagePacker;
  #state: Checkpoint;
  #read = 0;
  #bytesRead = 0;

  constructor(options: PushRunOptions) {
    this.#options = options;
    this.#start = options.start;
    this.#state = options.start;
    this.#positionName = positionKey(options.start.format);
    this.#rejected = new RejectedFile(
      options.rejectedPath,
      this.#positionName,
      options.resuming ? options.start.rejected : undefined,
    );
    this.#packer = new MessagePacker(options.start.maxBodyBytes, () => this.#rejected.flush());
  }

  /** Reads, checks and sends the file in order; true when Ctrl-C stopped it (the batch in flight finished). */
  async readAll(): Promise<boolean> {
    const { destination, allowedNames, stopRequested } = this.#options;
    if (destination !== undefined) await writeCheckpoint(this.#options.checkpointPath, this.#state);
    for await (const batch of readInput(this.#start.file, this.#start.format, this.#start.sentThrough, allowedNames)) {
      for (const item of batch.items) {
        this.#read++;
        const checked = checkItem(item, allowedNames, this.#positionName);
        if (!checked.ok) {
          this.#rejected.add(checked.rejected);
          this.#packer.skip(item.position);
          continue;
        }
        if (destination === undefined) continue;
        if (checked.tags !== undefined && destination !== undefined && !destination.takesTags)
          throw new UsageError(
            `${this.#positionName} ${checked.position} carries tag operations: --url sends to POST /v1/user-attrs, which takes attributes only; push tags without --url (the intake queue) [push-tags-need-intake]`,
          );
        this.#packer.add(checked.position, checked.user, checked.tags);
        if (this.#packer.closedCount < destination.batchSize) continue;
        await this.#sendClosed(destination);
        if (stopRequested()) return true;
      }
      this.#bytesRead = batch.bytesRead;
      // Without a message open, every pending rejection is settled: writing it keeps memory flat on bad files.
      if (this.#rejected.pendingCount >= DRY_RUN_FLUSH_LINES && (destination === undefined || this.#packer.openEmpty))
        this.#rejected.flush();
      this.#options.progress.update(this.#counts());
      // Between sends nothing is in flight: what is packed but unsent is read again on --resume.
      if (stopRequested()) return true;
    }
    return false;
  }

  /** Sends the last messages; the file done, its checkpoint goes, and an empty rejected-lines file with it. */
  async finish(): Promise<void> {
    const { destination } = this.#options;
    if (destination !== undefined) {
      this.#packer.finish();
      await this.#sendClosed(destination);
    }
    this.#rejected.flush();
    if (destination !== undefined) await removeCheckpoint(this.#options.checkpointPath);
    // No rejected line at all: no rejected-lines file left behind to be mistaken for a report.
    if (this.#rejected.count === 0) await rm(this.#options.rejectedPath, { force: true });
  }

  result(interrupted: boolean, error?: unknown): PushResult {
    this.#options.progress.stop(this.#counts());
    return {
      read: this.#read,
      rejected: error === undefined ? this.#rejected.count : this.#rejected.written.count,
      rejectedBefore: this.#start.rejected.count,
      usersSent: this.#state.usersSent,
      messagesSent: this.#state.messagesSent,
      sentThrough: this.#state.sentThrough,
      complete: error === undefined && !interrupted,
      interrupted,
      ...(error === undefined ? {} : { error }),
    };
  }

  async forgetIfNothingSent(): Promise<void> {
    if (this.#options.resuming || this.#state.messagesSent !== this.#start.messagesSent) return;
    await removeCheckpoint(this.#options.checkpointPath);
    await rm(this.#options.rejectedPath, { force: true });
  }

  close(): void {
    this.#rejected.close();
  }

  #counts(): PushCounts {
    return {
      read: this.#read,
      rejected: this.#rejected.count - this.#start.rejected.count,
      usersSent: this.#state.usersSent - this.#start.usersSent,
      bytesRead: this.#bytesRead,
    };
  }

  /** Sends closed messages, a destination batch at a time, checkpointing after each. */
  async #sendClosed(sink: Destination): Promise<void> {
    for (let batch = this.#packer.takeClosed(); batch.length > 0; batch = batch.slice(sink.batchSize)) {
      const part = batch.slice(0, sink.batchSize);
      for (const r of await sink.send(part)) this.#rejected.add(r);
      this.#rejected.flush();
      await this.#save(
        part.at(-1),
        part.reduce((n, m) => n + m.positions.length, 0),
        part.length,
      );
    }
  }

  async #save(through: PackedMessage | undefined, users: number, messages: number): Promise<void> {
    this.#state = {
      ...this.#state,
      sentThrough: through?.lastPosition ?? this.#state.sentThrough,
      usersSent: this.#state.usersSent + users,
      messagesSent: this.#state.messagesSent + messages,
      rejected: this.#rejected.written,
      updatedAt: new Date().toISOString(),
    };
    await writeCheckpoint(this.#options.checkpointPath, this.#state);
  }
}
