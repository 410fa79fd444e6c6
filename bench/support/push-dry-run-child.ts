/**
 * A child of bench/push-dry-run.bench.ts, in its own process so its peak RSS is its own. `baseline FILE`:
 * JSON.parse of every line, read the way the push reads lines. `push FILE`: `tim-attr push FILE --dry-run --json`.
 * Prints one JSON line: lines, ms (the reading loop or the push's own time), maxRssBytes.
 */
import { PassThrough, Writable } from 'node:stream';
import { readLines } from '../../cli/push/line-reader.ts';

const [mode, file] = process.argv.slice(2);
if (file === undefined || (mode !== 'baseline' && mode !== 'push'))
  throw new Error('usage: push-dry-run-child.ts baseline|push FILE');

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk.toString('utf8')), done()) }),
    text: () => chunks.join(''),
  };
}

let lines = 0;
let ms: number;
if (mode === 'baseline') {
  const started = performance.now();
  let keys = 0;
  for await (const batch of readLines(file)) {
    for (const line of batch.lines) {
      // Counting keys keeps the parse from being optimised away.
      const value: unknown = JSON.parse(line);
      if (typeof value === 'object' && value !== null) keys += Object.keys(value).length;
      lines++;
    }
  }
  ms = performance.now() - started;
  if (keys === 0) throw new Error('nothing parsed');
} else {
  // Imported here, so the baseline's memory is the reading and parsing alone.
  const { runCli } = await import('../../cli/main.ts');
  const out = sink();
  const code = await runCli(
    ['push', file, '--dry-run', '--json', '--attr-names', 'sex,city,tier,lang', '--progress-every', '3600'],
    {
      stdout: out.stream,
      stderr: sink().stream,
      stdin: new PassThrough(),
      env: {},
      cwd: process.cwd(),
      onInterrupt: () => () => undefined,
      exitNow: (exitCode) => process.exit(exitCode),
    },
  );
  const result = JSON.parse(out.text()) as { read: number; rejected: number; elapsedMs: number };
  if (code !== 0 || result.rejected !== 0)
    throw new Error(`the dry run ended with ${code} and ${result.rejected} rejected lines`);
  lines = result.read;
  ms = result.elapsedMs;
}
process.stdout.write(`${JSON.stringify({ lines, ms, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
