/**
 * `tim-attr push` as a real process stopped half-way: a Ctrl-C (SIGINT) finishes the batch in flight, a SIGKILL
 * stops it anywhere; `--resume` then sends the rest, and the intake queue holds every user exactly once.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/stack.ts';
import { useStack } from '../helpers/use-stack.ts';
import { recordForSecretScan } from '../setup/output-capture.ts';
import { writeNdjsonUsers } from './backfill-files.ts';
import { jsonOf, runTimAttr, stackEnv } from './cli-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'tim-attr-signal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bin = join(import.meta.dirname, '../../cli/tim-attr.ts');
/** Enough messages that the push is still sending when the signal comes. */
const ROWS = 200_000;
const MESSAGE_BYTES = '20000';

interface Checkpoint {
  readonly sentThrough: number;
  readonly messagesSent: number;
}

function readCheckpoint(file: string): Checkpoint | undefined {
  try {
    return JSON.parse(readFileSync(`${file}.checkpoint.json`, 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
}

/** Starts a push process, waits until a batch is checkpointed, sends `signal`, and resolves to its exit. */
async function pushUntil(
  stack: Stack,
  file: string,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, 'push', file, '--message-bytes', MESSAGE_BYTES], {
    env: { ...process.env, ...stackEnv(stack) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdout.on('data', (chunk: Buffer) => recordForSecretScan(chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  for (let i = 0; i < 400 && (readCheckpoint(file)?.sentThrough ?? 0) === 0; i++) await sleep(10);
  child.kill(signal);
  const result = await exited;
  recordForSecretScan(stderr);
  return { ...result, stderr };
}

function accountsOf(messages: readonly Message[]): string[] {
  return messages.flatMap((m) =>
    (JSON.parse(m.Body ?? '{}') as { UserAttrs: { To_Account: string }[] }).UserAttrs.map((u) => u.To_Account),
  );
}

describe('tim-attr push stopped by a signal', () => {
  const stack = useStack();

  it('SIGINT: the batch in flight is finished and checkpointed, exit 130; --resume completes it, each user once, in order', async () => {
    // Prepare
    const file = join(dir, 'sigint.ndjson');
    const accounts = writeNdjsonUsers(file, ROWS, 'si');

    // Act
    const stopped = await pushUntil(stack, file, 'SIGINT');
    const checkpoint = readCheckpoint(file);
    const before = await stack.takeAll(stack.intakeUrl);
    const resumed = await runTimAttr(stack, ['push', file, '--resume', '--json']);
    const after = await stack.takeAll(stack.intakeUrl);

    // Assess
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('Finishing the batch in flight');
    expect(stopped.stderr).toContain('run again with --resume');
    expect(checkpoint?.sentThrough).toBeGreaterThan(0);
    expect(checkpoint?.sentThrough).toBeLessThan(ROWS);
    // Nothing past the checkpoint went out: the queue holds exactly the checkpointed messages.
    expect(before).toHaveLength(checkpoint?.messagesSent ?? -1);
    expect(accountsOf(before)).toEqual(accounts.slice(0, checkpoint?.sentThrough));
    expect(resumed.code).toBe(0);
    expect(jsonOf(resumed)).toMatchObject({ complete: true, usersSent: ROWS });
    expect(accountsOf([...before, ...after])).toEqual(accounts);
  }, 60_000);

  it('SIGKILL half-way: --resume sends the rest; the batch that was in flight is not queued twice', async () => {
    // Prepare
    const file = join(dir, 'sigkill.ndjson');
    const accounts = writeNdjsonUsers(file, ROWS, 'sk');

    // Act
    const killed = await pushUntil(stack, file, 'SIGKILL');
    const checkpoint = readCheckpoint(file);
    const resumed = await runTimAttr(stack, ['push', file, '--resume', '--json']);
    const queued = await stack.takeAll(stack.intakeUrl);

    // Assess
    expect(killed.signal).toBe('SIGKILL');
    expect(checkpoint?.sentThrough).toBeGreaterThan(0);
    expect(checkpoint?.sentThrough).toBeLessThan(ROWS);
    expect(resumed.code).toBe(0);
    // The resumed run sends again from the checkpoint, with the same deduplication ids: what the killed run had
    // already sent of that batch is dropped by the queue, so every user is there once, in file order.
    expect(accountsOf(queued)).toEqual(accounts);
    expect(queued).toHaveLength((jsonOf(resumed) as { messagesSent: number }).messagesSent);
    expect(existsSync(`${file}.checkpoint.json`)).toBe(false);
  }, 60_000);
});
