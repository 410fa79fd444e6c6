/**
 * `npm run soak -- --users 1000000 [--seed N] [--workers N]`: the fault soak of the test suite at any
 * scale, printing the same tally. `--workers` is the number of worker copies (WORKER_MAX_CONCURRENCY, at
 * least 2), each paced at its share of the fleet budget. Exits non-zero when anything was lost or refused
 * wrongly.
 */
import { parseArgs } from 'node:util';
import { formatTally, runSoak } from './soak.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '50000' },
    seed: { type: 'string', default: '7' },
    workers: { type: 'string', default: '2' },
  },
});
const users = Number(values.users);
if (!Number.isSafeInteger(users) || users < 1) throw new Error('--users must be a positive whole number');

const tally = await runSoak({
  users,
  seed: Number(values.seed),
  workers: Number(values.workers),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${formatTally(tally)}\n`);
process.exitCode = tally.lost === 0 && tally.wronglyDeadLettered === 0 && tally.wronglyRejected === 0 ? 0 : 1;
