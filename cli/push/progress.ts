import { SingleBar } from 'cli-progress';
import type { OutputStream } from '../io.ts';

/** What the push has done so far. */
export interface PushCounts {
  /** Positions read (lines or entries), skipped ones of a resume not included. */
  readonly read: number;
  readonly rejected: number;
  readonly usersSent: number;
  readonly bytesRead: number;
}

export interface ProgressReporter {
  update(counts: PushCounts): void;
  stop(counts: PushCounts): void;
}

const rate = (n: number, ms: number): number => (ms <= 0 ? 0 : Math.round((n * 1000) / ms));

/** How long the rest takes at the pace so far, from the bytes read; `—` before there is a pace. */
function eta(counts: PushCounts, totalBytes: number, ms: number): string {
  if (counts.bytesRead <= 0 || ms <= 0) return '—';
  const seconds = Math.round(((totalBytes - counts.bytesRead) * ms) / counts.bytesRead / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

/**
 * On a terminal: a bar (cli-progress) over the file's bytes, with users/s, ETA and the rejected count. Anywhere
 * else (a pipe, a log): a plain line every `everyMs`, with no escape codes, and one at the end.
 */
export function progressReporter(options: {
  readonly stream: OutputStream;
  readonly interactive: boolean;
  readonly totalBytes: number;
  readonly everyMs: number;
  readonly verb: string;
  readonly now?: () => number;
}): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const { stream, totalBytes, verb } = options;
  const users = (c: PushCounts): number => (verb === 'checked' ? c.read - c.rejected : c.usersSent);
  if (options.interactive) {
    const bar = new SingleBar({
      stream,
      format: `${verb} [{bar}] {percentage}% | {read} lines | {users} users | {rate} users/s | ETA {etaText} | {rejected} rejected`,
      barsize: 24,
      hideCursor: true,
      etaBuffer: 50,
    });
    const payload = (c: PushCounts) => ({
      read: c.read,
      users: users(c),
      rate: rate(users(c), now() - started),
      rejected: c.rejected,
      etaText: eta(c, totalBytes, now() - started),
    });
    bar.start(Math.max(1, totalBytes), 0, payload({ read: 0, rejected: 0, usersSent: 0, bytesRead: 0 }));
    return {
      update: (c) => bar.update(c.bytesRead, payload(c)),
      stop: (c) => {
        bar.update(c.bytesRead, payload(c));
        bar.stop();
      },
    };
  }
  let last = started;
  const line = (c: PushCounts): string => {
    const ms = now() - started;
    const percent = totalBytes > 0 ? Math.floor((c.bytesRead * 100) / totalBytes) : 100;
    return `${verb}: ${percent}% of ${totalBytes} bytes, ${c.read} lines, ${users(c)} users, ${rate(users(c), ms)} users/s, ETA ${eta(c, totalBytes, ms)}, ${c.rejected} rejected\n`;
  };
  return {
    update: (c) => {
      if (now() - last < options.everyMs) return;
      last = now();
      stream.write(line(c));
    },
    stop: (c) => stream.write(line(c)),
  };
}
