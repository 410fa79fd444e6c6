import type { Readable, Writable } from 'node:stream';

/** A stream that may be a terminal (`process.stdout` and friends are; files and pipes are not). */
export type OutputStream = Writable & { readonly isTTY?: boolean; readonly columns?: number };
export type InputStream = Readable & { readonly isTTY?: boolean };

/**
 * Everything the CLI touches outside its own code, so tests can run it in-process with their own streams,
 * environment and Ctrl-C.
 */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: InputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Calls `handler` on each Ctrl-C (SIGINT) until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
  /** Ends the process at once with `code` (a second Ctrl-C). */
  exitNow(code: number): void;
}

/** The real process: its streams, environment and SIGINT. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      return () => {
        process.off('SIGINT', handler);
      };
    },
    exitNow(code) {
      process.exit(code);
    },
  };
}

/** Whether progress may redraw a line: only on a terminal, and not when the user asked for no colour. */
export function isInteractive(stream: OutputStream, env: CliIo['env']): boolean {
  return stream.isTTY === true && env['TERM'] !== 'dumb' && env['NO_COLOR'] === undefined;
}
