/**
 * `npm run bench`: runs each benchmark in a fresh Node process (so one does not warm or load the next)
 * and prints their figures. Not part of `npm test`: speed is measured here, never by timed unit tests.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'cpu.bench.ts',
  'usersig.bench.ts',
  'throughput.bench.ts',
  'cold-start.bench.ts',
  'memory.bench.ts',
  'latency.bench.ts',
  'merge.bench.ts',
  'calls-per-user.bench.ts',
  'forged-request.bench.ts',
  'push-dry-run.bench.ts',
];
const only = process.argv.slice(2);
let failed = 0;
for (const file of BENCHES.filter((f) => only.length === 0 || only.some((o) => f.includes(o)))) {
  process.stdout.write(`\n== ${file}\n`);
  const run = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
