/**
 * `FILE.checkpoint.json`: how far a push got, so `--resume` sends only the rest. Written (atomically: a temporary
 * file renamed over it) after every fully sent batch of messages, and removed when the push completes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { UsageError } from '../exit-codes.ts';
import type { InputFormat } from './input-format.ts';

/** Bytes of the file's head hashed into its identity: a rewritten file almost always differs there or in size. */
const HEAD_BYTES = 64 * 1024;

/** What says the file is still the one a checkpoint was written for. */
export interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
  readonly headSha256: string;
}

export interface Checkpoint {
  readonly version: 1;
  readonly file: string;
  readonly format: InputFormat;
  readonly identity: FileIdentity;
  readonly destination: string;
  /** Part of every deduplication id (and webhook-id) of the run: a resumed send of a batch is dropped as a repeat. */
  readonly runId: string;
  readonly messageGroupId: string;
  readonly maxBodyBytes: number;
  /** Every position up to here was sent or rejected. */
  readonly sentThrough: number;
  readonly usersSent: number;
  readonly messagesSent: number;
  readonly rejected: { readonly bytes: number; readonly count: number };
  readonly updatedAt: string;
}

export async function fileIdentity(file: string): Promise<FileIdentity> {
  const info = await stat(file);
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(HEAD_BYTES, info.size));
    await handle.read(head, 0, head.length, 0);
    return { size: info.size, mtimeMs: info.mtimeMs, headSha256: createHash('sha256').update(head).digest('hex') };
  } finally {
    await handle.close();
  }
}

export function newRunId(): string {
  return randomBytes(8).toString('hex');
}

export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error: unknown) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(
      `${path} is not JSON: not a checkpoint this push can resume; remove it and push with --restart [checkpoint-version]`,
    );
  }
  if (typeof value !== 'object' || value === null || !('version' in value) || value.version !== 1)
    throw new UsageError(`${path} is not a checkpoint of this version of tim-attr [checkpoint-version]`);
  return value as Checkpoint;
}

export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
  await rename(temporary, path);
}

export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Refuses to resume when the file changed since the checkpoint: its positions would no longer mean the same lines. */
export function checkSameFile(checkpoint: Checkpoint, identity: FileIdentity, file: string): void {
  const was = checkpoint.identity;
  const what =
    was.size !== identity.size
      ? `its size (${was.size} → ${identity.size} bytes)`
      : was.headSha256 !== identity.headSha256
        ? 'its first bytes'
        : was.mtimeMs !== identity.mtimeMs
          ? 'its modification time'
          : undefined;
  if (what !== undefined) {
    throw new UsageError(
      `${file} changed since the checkpoint (${what}); --resume would skip the wrong lines. Push it again with --restart [checkpoint-file-changed]`,
    );
  }
}
