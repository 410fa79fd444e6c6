/**
 * `tim-attr push --dry-run` on a 1,000,000-line NDJSON file: lines per second and peak RSS, each run in a fresh
 * process. The speed target is a ratio to a baseline measured in the same run on the same file: JSON.parse of
 * every line, read by lines the same way. Targets: RSS under 150 MB, and at least 50 % of the baseline's speed.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, mb } from './support/stats.ts';

const LINES = 1_000_000;
const RUNS = 3;
const MAX_RSS_BYTES = 150 * 1024 * 1024;
const MIN_SPEED_RATIO = 0.5;
const CITIES = ['Paris', '深圳', 'Lagos', 'Lima', 'Singapore'];

async function writeFile(file: string): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  for (let i = 0; i < LINES; i++) {
    const line = `${JSON.stringify({ To_Account: `user_${String(i).padStart(7, '0')}`, Attrs: { city: CITIES[i % CITIES.length], tier: i % 10 === 0 ? null : 'gold', lang: 'en' } })}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return bytes;
}

interface ChildResult {
  readonly lines: number;
  readonly ms: number;
  readonly maxRssBytes: number;
}

function runChild(mode: 'baseline' | 'push', file: string): ChildResult {
  const child = fileURLToPath(new URL('support/push-dry-run-child.ts', import.meta.url));
  const run = spawnSync(process.execPath, [child, mode, file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${mode} child failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim()) as ChildResult;
}

const dir = mkdtempSync(join(tmpdir(), 'tim-attr-bench-'));
try {
  const file = join(dir, 'users.ndjson');
  const bytes = await writeFile(file);
  const baseline: ChildResult[] = [];
  const push: ChildResult[] = [];
  // Alternated, so a busy moment of the machine weighs on both.
  for (let i = 0; i < RUNS; i++) {
    baseline.push(runChild('baseline', file));
    push.push(runChild('push', file));
  }
  const rate = (runs: readonly ChildResult[]): number => median(runs.map((r) => (r.lines * 1000) / r.ms));
  const pushRate = rate(push);
  const baselineRate = rate(baseline);
  const pushRss = Math.max(...push.map((r) => r.maxRssBytes));
  const ratio = pushRate / baselineRate;
  const lines = push.every((r) => r.lines === LINES);
  console.log(
    `push --dry-run, ${LINES.toLocaleString('en')} NDJSON lines (${mb(bytes)}), median of ${RUNS}: ${Math.round(pushRate).toLocaleString('en')} lines/s, peak RSS ${mb(pushRss)} (target < ${mb(MAX_RSS_BYTES)}); ` +
      `baseline JSON.parse of each line: ${Math.round(baselineRate).toLocaleString('en')} lines/s, peak RSS ${mb(Math.max(...baseline.map((r) => r.maxRssBytes)))}; ` +
      `speed ratio ${(ratio * 100).toFixed(0)} % (target ≥ ${MIN_SPEED_RATIO * 100} %)${lines ? '' : '; NOT every line was read'}`,
  );
  if (pushRss >= MAX_RSS_BYTES || ratio < MIN_SPEED_RATIO || !lines) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
