/**
 * Module init time in a fresh Node process: the `performance.now()` (ms since the process started) right
 * after `import()` of a module, the way the Lambda runtime imports a handler during init.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface InitTimeOptions {
  /** The child's whole environment (nothing is inherited, so the parent's settings cannot leak in). */
  readonly env: Readonly<Record<string, string>>;
}

/** Thrown when the child did not import the module cleanly. */
export class InitRunError extends Error {
  override readonly name = 'InitRunError';
  readonly modulePath: string;
  readonly status: number | null;

  constructor(modulePath: string, status: number | null, stderr: string) {
    super(`importing ${modulePath} failed (exit ${String(status)}): ${stderr.slice(0, 2000)}`);
    this.modulePath = modulePath;
    this.status = status;
  }
}

// `process.exit` right away: an SDK client or socket left open must not add its teardown to the figure.
const CHILD_SCRIPT = 'await import(process.argv[1]); process.stdout.write(String(performance.now())); process.exit(0);';

/** Milliseconds from the child's start until `modulePath` is imported. */
export function importTimeMs(modulePath: string, options: InitTimeOptions): number {
  const child = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', CHILD_SCRIPT, pathToFileURL(modulePath).href],
    {
      env: { ...options.env },
      encoding: 'utf8',
    },
  );
  const ms = Number(child.stdout);
  if (child.status !== 0 || !Number.isFinite(ms)) throw new InitRunError(modulePath, child.status, child.stderr);
  return ms;
}

/** `runs` samples of {@link importTimeMs}. */
export function importTimesMs(modulePath: string, runs: number, options: InitTimeOptions): number[] {
  return Array.from({ length: runs }, () => importTimeMs(modulePath, options));
}
