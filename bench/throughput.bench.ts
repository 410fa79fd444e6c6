/**
 * Throughput of one ImClient against the IM emulator at IM's real limit (100 calls/s, 20–60 ms latency):
 * 100,000 users in 1,000 calls of 100 through the default limiter. Prints figures; it is not a test.
 *
 * Run: npx node bench/throughput.bench.ts
 */
import { ImClient } from '../lib/im/client.ts';
import { RateLimiter } from '../lib/pacing/rate-limiter.ts';
import { startEmulator } from '../local/emulator/index.ts';

const USERS = 100_000;
const CHUNK = 100;
const RATE_LIMITED = 60007;
const CEILING_USERS_PER_S = 100 * CHUNK;

const key = { sdkAppId: 1400000123, identifier: 'administrator', secretKey: 'bench-secret-key' };

const emulator = await startEmulator({
  sdkAppId: key.sdkAppId,
  adminIdentifier: key.identifier,
  secretKey: key.secretKey,
  attrNames: ['sex', 'city', 'tier'],
  rateLimitPerSecond: 100,
  faults: { latencyMs: [20, 60] },
});

const chunks = Array.from({ length: USERS / CHUNK }, (_, c) =>
  Array.from({ length: CHUNK }, (_, i) => ({
    To_Account: `user-${c * CHUNK + i}`,
    Attrs: { sex: i % 2 === 0 ? 'f' : 'm', city: `city-${c}`, tier: 'gold' },
  })),
);

const latencies: number[] = [];
const limiter = new RateLimiter();
const client = new ImClient({
  baseUrl: emulator.url,
  credentials: { get: () => Promise.resolve(key), refresh: () => Promise.resolve(key) },
  // Every command on this one limiter: the bench calls im_set_attr alone.
  pacerFor: () => limiter,
  onAttempt: (event) => latencies.push(event.latencyMs),
});

const started = performance.now();
const outcomes = await Promise.allSettled(chunks.map((chunk) => client.setAttr(chunk)));
const elapsedMs = performance.now() - started;

const failedCalls = outcomes.filter((o) => o.status === 'rejected').length;
const usersPerSecond = emulator.counters.usersApplied / (elapsedMs / 1000);
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1);

console.log(`users pushed        ${USERS.toLocaleString('en')} in ${chunks.length} calls of ${CHUNK}`);
console.log(`users applied       ${emulator.counters.usersApplied.toLocaleString('en')}`);
console.log(`elapsed             ${(elapsedMs / 1000).toFixed(2)} s`);
console.log(
  `throughput          ${Math.round(usersPerSecond).toLocaleString('en')} users/s (${((usersPerSecond / CEILING_USERS_PER_S) * 100).toFixed(1)}% of the ${CEILING_USERS_PER_S.toLocaleString('en')} ceiling)`,
);
console.log(`rate-limit answers  ${emulator.counters.rejectedByCode.get(RATE_LIMITED) ?? 0}`);
console.log(`attempts            ${latencies.length} (failed calls: ${failedCalls})`);
console.log(`max calls in 1 s    ${emulator.counters.maxCallsInAnyWindow} (server-side, at arrival)`);
console.log(`latency ms          p50 ${pct(0.5)}  p99 ${pct(0.99)}  max ${pct(1)}`);

client.close();
await emulator.close();
