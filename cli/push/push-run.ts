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
  const { start, destination, progress } = options;
  const positionName = positionKey(start.format);
  const rejected = new RejectedFile(options.rejectedPath, positionName, options.resuming ? start.rejected : undefined);
  const packer = new MessagePacker(start.maxBodyBytes, () => rejected.flush());
  let state: Checkpoint = start;
  let read = 0;
  let bytesRead = 0;
  let interrupted = false;
  const counts = (): PushCounts => ({
    read,
    rejected: rejected.count - start.rejected.count,
    usersSent: state.usersSent - start.usersSent,
    bytesRead,
  });

  const save = async (through: PackedMessage | undefined, users: number, messages: number): Promise<void> => {
    state = {
      ...state,
      sentThrough: through?.lastPosition ?? state.sentThrough,
      usersSent: state.usersSent + users,
      messagesSent: state.messagesSent + messages,
      rejected: rejected.written,
      updatedAt: new Date().toISOString(),
    };
    await writeCheckpoint(options.checkpointPath, state);
  };

  /** Sends closed messages, a destination batch at a time, checkpointing after each. */
  const sendClosed = async (sink: Destination): Promise<void> => {
    for (let batch = packer.takeClosed(); batch.length > 0; batch = batch.slice(sink.batchSize)) {
      const part = batch.slice(0, sink.batchSize);
      for (const r of await sink.send(part)) rejected.add(r);
      rejected.flush();
      await save(
        part.at(-1),
        part.reduce((n, m) => n + m.positions.length, 0),
        part.length,
      );
    }
  };

  try {
    if (destination !== undefined) await writeCheckpoint(options.checkpointPath, state);
    reading: for await (const batch of readInput(start.file, start.format, start.sentThrough, options.allowedNames)) {
      for (const item of batch.items) {
        read++;
        const checked = checkItem(item, options.allowedNames, positionName);
        if (!checked.ok) {
          rejected.add(checked.rejected);
          packer.skip(item.position);
          continue;
        }
        if (destination === undefined) continue;
        packer.add(checked.position, checked.user);
        if (packer.closedCount >= destination.batchSize) {
          await sendClosed(destination);
          if (options.stopRequested()) {
            interrupted = true;
            break reading;
          }
        }
      }
      bytesRead = batch.bytesRead;
      // Without a message open, every pending rejection is settled: writing it keeps memory flat on bad files.
      if (rejected.pendingCount >= DRY_RUN_FLUSH_LINES && (destination === undefined || packer.openEmpty))
        rejected.flush();
      progress.update(counts());
      // Between sends nothing is in flight: what is packed but unsent is read again on --resume.
      if (options.stopRequested()) {
        interrupted = true;
        break;
      }
    }
    if (!interrupted && destination !== undefined) {
      packer.finish();
      await sendClosed(destination);
    }
    if (!interrupted) {
      rejected.flush();
      if (destination !== undefined) await removeCheckpoint(options.checkpointPath);
      // No rejected line at all: no rejected-lines file left behind to be mistaken for a report.
      if (rejected.count === 0) await rm(options.rejectedPath, { force: true });
    }
    progress.stop(counts());
    return {
      read,
      rejected: rejected.count,
      rejectedBefore: start.rejected.count,
      usersSent: state.usersSent,
      messagesSent: state.messagesSent,
      sentThrough: state.sentThrough,
      complete: !interrupted,
      interrupted,
    };
  } catch (error: unknown) {
    // A file the rules cannot read at all (a CSV header naming an unregistered attribute, say) is a usage error.
    // Refused before anything was sent, the push leaves nothing behind: no checkpoint to resume, no empty report.
    if (error instanceof UsageError) {
      if (!options.resuming && state.messagesSent === start.messagesSent) {
        await removeCheckpoint(options.checkpointPath);
        await rm(options.rejectedPath, { force: true });
      }
      throw error;
    }
    progress.stop(counts());
    return {
      read,
      rejected: rejected.written.count,
      rejectedBefore: start.rejected.count,
      usersSent: state.usersSent,
      messagesSent: state.messagesSent,
      sentThrough: state.sentThrough,
      complete: false,
      interrupted,
      error,
    };
  } finally {
    rejected.close();
  }
}
