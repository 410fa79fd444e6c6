/**
 * CPU cost of the request rules on a large batch: JSON.parse → validateUsers → chunk(100) →
 * JSON.stringify of each chunk, against plain JSON.parse + JSON.stringify of the same payload.
 * Target: at most 3× the baseline. Run with `npx node bench/cpu.bench.ts`.
 */
import { performance } from 'node:perf_hooks';
import { chunk } from '../lib/core/rules/chunk.ts';
import { MAX_USERS_PER_CALL } from '../lib/core/rules/constants.ts';
import { validateUsers } from '../lib/core/rules/validate-users.ts';

const USERS = 100_000;
const WARM_UP_RUNS = 3;
const MEASURED_RUNS = 7;
const TARGET_RATIO = 3;

const CITIES = ['Shenzhen', '深圳', 'Singapore', '北京市朝阳区', 'São Paulo', '東京都渋谷区', 'Berlin'];
const LEVELS = ['gold', 'silver', '普通会员', 'bronze', 'VIP 会员 plus'];

// A realistic body: 3 attributes per user, values mixing ASCII and CJK, deterministic.
function buildBody(users: number): string {
  const userAttrs = [];
  for (let i = 0; i < users; i++) {
    userAttrs.push({
      To_Account: `user_${i.toString(36).padStart(6, '0')}`,
      Attrs: {
        city: CITIES[i % CITIES.length],
        level: LEVELS[i % LEVELS.length],
        nickname: i % 3 === 0 ? `玩家${i}号` : `player-${i}`,
      },
    });
  }
  return JSON.stringify({ UserAttrs: userAttrs });
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function measure(run: () => number): number {
  for (let i = 0; i < WARM_UP_RUNS; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < MEASURED_RUNS; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const body = buildBody(USERS);

// Each run returns a number derived from its output so the work cannot be optimized away.
const pipelineMs = measure(() => {
  const { users, rejected } = validateUsers(JSON.parse(body));
  if (rejected.length > 0) throw new Error(`bench payload has ${rejected.length} rejected users`);
  let bytes = 0;
  for (const group of chunk(users, MAX_USERS_PER_CALL)) bytes += JSON.stringify({ UserAttrs: group }).length;
  return bytes;
});
const baselineMs = measure(() => JSON.stringify(JSON.parse(body)).length);

const ratio = pipelineMs / baselineMs;
console.log(
  `cpu: validate+dedupe+chunk+serialize ${USERS} users: ${pipelineMs.toFixed(1)} ms; ` +
    `JSON.parse+stringify: ${baselineMs.toFixed(1)} ms; ratio ${ratio.toFixed(2)} (target ≤ ${TARGET_RATIO})`,
);
if (ratio > TARGET_RATIO) process.exitCode = 1;
