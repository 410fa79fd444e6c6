/**
 * Where a push starts: from nothing, or from the checkpoint of an interrupted push of the same file (`--resume`).
 * The decision refuses what would send lines twice or skip the wrong ones.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../exit-codes.ts';
import { checkSameFile, newRunId, type Checkpoint, type FileIdentity } from './checkpoint.ts';
import type { InputFormat } from './input-format.ts';

export interface StartRequest {
  /** Absolute path. */
  readonly file: string;
  /** As typed, for messages. */
  readonly fileArg: string;
  readonly format: InputFormat;
  readonly identity: FileIdentity;
  readonly existing: Checkpoint | undefined;
  readonly checkpointPath: string;
  readonly resume: boolean;
  readonly restart: boolean;
  readonly maxBodyBytes: number;
}

/** Which checkpoint a push continues from (or starts afresh), before its destination is known. */
export interface StartPoint {
  readonly resuming: Checkpoint | undefined;
  readonly runId: string;
  readonly messageGroupId: string;
}

/** One message group per file, named from its absolute path: pushes of the same file keep their order. */
export function messageGroupOf(file: string): string {
  return `push-${createHash('sha256').update(file).digest('hex').slice(0, 16)}`;
}

export function chooseStart(request: StartRequest): StartPoint {
  const { existing, resume, restart, checkpointPath, fileArg } = request;
  if (resume && restart) throw new UsageError('--resume and --restart exclude each other');
  if (resume && existing === undefined)
    throw new UsageError(
      `${checkpointPath} does not exist: nothing to resume (the last push of ${fileArg} completed, or never started)`,
    );
  if (!resume && existing !== undefined && !restart) {
    throw new UsageError(
      `${checkpointPath} exists: an earlier push of ${fileArg} stopped after position ${existing.sentThrough}. Pass --resume to send the rest, or --restart to send the whole file again`,
    );
  }
  if (resume && existing !== undefined) {
    checkSameFile(existing, request.identity, fileArg);
    return { resuming: existing, runId: existing.runId, messageGroupId: existing.messageGroupId };
  }
  return { resuming: undefined, runId: newRunId(), messageGroupId: messageGroupOf(request.file) };
}

/** The checkpoint the run starts from: the one resumed (same destination only), or a fresh one. */
export function startCheckpoint(request: StartRequest, point: StartPoint, destination: string): Checkpoint {
  if (point.resuming !== undefined) {
    if (point.resuming.destination !== destination) {
      throw new UsageError(
        `the checkpoint was written for ${point.resuming.destination}; resume to the same place (not ${destination}) [checkpoint-destination]`,
      );
    }
    return point.resuming;
  }
  return {
    version: 1,
    file: request.file,
    format: request.format,
    identity: request.identity,
    destination,
    runId: point.runId,
    messageGroupId: point.messageGroupId,
    maxBodyBytes: request.maxBodyBytes,
    sentThrough: 0,
    usersSent: 0,
    messagesSent: 0,
    rejected: { bytes: 0, count: 0 },
    updatedAt: new Date().toISOString(),
  };
}
