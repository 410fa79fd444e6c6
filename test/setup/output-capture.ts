/**
 * Captures everything the test suite writes — stdout, stderr, console — and every handler response the
 * harness records, into one file that the global teardown scans for planted secrets.
 */
import { appendFileSync } from 'node:fs';

export const CAPTURE_FILE_ENV = 'SECRET_SCAN_CAPTURE_FILE';

/** Adds text to the capture without printing it (handler responses, error messages). */
export function recordForSecretScan(text: string): void {
  const file = process.env[CAPTURE_FILE_ENV];
  if (file !== undefined) appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

type Write = typeof process.stdout.write;

function tee(stream: NodeJS.WriteStream): void {
  const original: Write = stream.write.bind(stream) as Write;
  const patched = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    recordForSecretScan(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as Write;
  stream.write = patched;
}

let installed = false;

/** Installs the capture in this worker (idempotent). */
export function installOutputCapture(): void {
  if (installed || process.env[CAPTURE_FILE_ENV] === undefined) return;
  installed = true;
  tee(process.stdout);
  tee(process.stderr);
  // The test runner routes console calls around process.stdout, so they are captured on their own.
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      recordForSecretScan(
        args
          .map((a) =>
            typeof a === 'string'
              ? a
              : a instanceof Error
                ? `${a.name}: ${a.message}\n${a.stack ?? ''}`
                : safeStringify(a),
          )
          .join(' '),
      );
      original(...args);
    };
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

installOutputCapture();
