/**
 * `npm run bench:stream`: what an event-driven sender sees. Signed webhooks of 1–5 users sent at a fixed rate,
 * through the gateway as a fleet of processes (API copies that each handle one request at a time, as Lambda
 * copies do; 2 worker copies polling the lanes; bench/support/local-fleet.ts) against fauxqs, dynalite and the IM
 * emulator. Each level runs on a fresh fleet for `--seconds` (30) and prints the answers (2xx/4xx/5xx), answer
 * p50/p99 (from the moment the request was due), lag from answer to IM p50/p99, IM calls per 100 users, the
 * rate-limited share, SQS requests per user and users per IM call. Exits non-zero when a target is missed.
 *
 * Levels (the targets are the product's promise to such a sender):
 * - light: 10 single-user webhooks/s; every user in IM within p99 1 s of its answer;
 * - stream-1, stream-5: 100 webhooks/s of 1 and of 5 users; every webhook 2xx, answer p99 ≤ 1 s, lag p99 ≤ 2 s,
 *   ≤ 0.5 % rate-limited;
 * - saturation: IM's limit lowered to 10 calls/s (the gateway and the emulator), 150 single-user webhooks/s, more
 *   than unmerged calls could carry: the last user in IM within 5 s of the stream's end, ≤ 10 IM calls per 100
 *   users, lag p99 ≤ 5 s, ≤ 0.5 % rate-limited. This is how a 2-core machine shows merging at the ceiling;
 * - bulk-alone, then mixed: a 20,000-user webhook alone, then the same in the middle of a 100 webhooks/s stream:
 *   the stream's lag p99 stays ≤ 5 s while the bulk drains, and the bulk drains at ≥ 0.8 × its rate alone.
 *
 * Options: --seconds 30  --levels light,stream-1,stream-5,saturation,mixed  --api-copies 16
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import DEFAULTS from '../lib/config/defaults.json' with { type: 'json' };
import { epochMs, startLocalFleet, type LocalFleet } from './support/local-fleet.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    levels: { type: 'string', default: 'light,stream-1,stream-5,saturation,mixed' },
    'api-copies': { type: 'string', default: '16' },
  },
});
const SECONDS = Number(values.seconds);
const API_COPIES = Number(values['api-copies']);
const WORKERS = DEFAULTS.workerMaxConcurrency;
const BULK_USERS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Level {
  readonly name: string;
  readonly rate: number;
  readonly usersEach: number;
  readonly imRateLimit: number;
  /** A bulk webhook sent a third into the stream (rate 0: alone). */
  readonly bulk: boolean;
}

const LEVELS: Readonly<Record<string, readonly Level[]>> = {
  light: [{ name: 'light', rate: 10, usersEach: 1, imRateLimit: 100, bulk: false }],
  'stream-1': [{ name: 'stream-1', rate: 100, usersEach: 1, imRateLimit: 100, bulk: false }],
  'stream-5': [{ name: 'stream-5', rate: 100, usersEach: 5, imRateLimit: 100, bulk: false }],
  saturation: [{ name: 'saturation', rate: 150, usersEach: 1, imRateLimit: 10, bulk: false }],
  mixed: [
    { name: 'bulk-alone', rate: 0, usersEach: 1, imRateLimit: 100, bulk: true },
    { name: 'mixed', rate: 100, usersEach: 1, imRateLimit: 100, bulk: true },
  ],
};

interface LevelResult {
  readonly level: Level;
  readonly answers: { readonly ok: number; readonly client: number; readonly server: number };
  readonly answerMs: readonly number[];
  readonly lagMs: readonly number[];
  readonly users: number;
  readonly calls: number;
  readonly rateLimited: number;
  readonly sqsRequests: number;
  /** Ms from the stream's last request being due to its last user in IM. */
  readonly tailMs: number;
  readonly missing: number;
  /** The bulk webhook's users/s from its answer to its last user in IM, when there was one. */
  readonly bulkUsersPerSecond: number | undefined;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? Number.NaN;
const sum = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0);

/** A pool of API copies: a request goes to an idle copy, else waits for one (as requests beyond Lambda's copies would). */
function apiPool(copies: readonly ChildProcess[]) {
  const idle = [...copies];
  const waiting: (() => void)[] = [];
  const answers = new Map<number, (answer: { status: number; answeredAt: number }) => void>();
  for (const copy of copies) {
    copy.on('message', (m: { id: number; status: number; answeredAt: number }) => {
      answers.get(m.id)?.(m);
      answers.delete(m.id);
      idle.push(copy);
      waiting.shift()?.();
    });
  }
  return async (id: number, body: string): Promise<{ status: number; answeredAt: number }> => {
    while (idle.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    const copy = idle.pop() as ChildProcess;
    const answered = new Promise<{ status: number; answeredAt: number }>((resolve) => answers.set(id, resolve));
    copy.send({ kind: 'request', id, body });
    return answered;
  };
}

async function runLevel(level: Level, run: number): Promise<LevelResult> {
  const fleet: LocalFleet = await startLocalFleet({
    name: `stream-${run}`,
    imRateLimit: level.imRateLimit,
    env: {
      IM_RATE_LIMIT: String(level.imRateLimit),
      API_MAX_CONCURRENCY: String(API_COPIES + 1),
      WORKER_MAX_CONCURRENCY: String(WORKERS),
      WORKER_RESERVED_CONCURRENCY: String(Math.max(DEFAULTS.workerReservedConcurrency, WORKERS)),
    },
  });
  try {
    const { emulator } = fleet;
    const copies = await Promise.all(Array.from({ length: API_COPIES }, () => fleet.apiStreamCopy()));
    const bulkCopy = level.bulk ? await fleet.apiStreamCopy() : undefined;
    for (let i = 0; i < WORKERS; i++) fleet.workerCopy();
    const send = apiPool(copies);
    // Warm every copy (as a stream that has been running), then measure from a clean slate.
    await Promise.all(
      copies.map((_, i) =>
        send(-1 - i, JSON.stringify({ UserAttrs: [{ To_Account: `warm-${i}`, Attrs: { city: 'w' } }] })),
      ),
    );
    while (emulator.attrs.size < API_COPIES) await sleep(20);
    await sleep(1_000);
    emulator.counters.callsByCommand.clear();
    emulator.counters.rejectedByCode.clear();
    const sqsBefore = sum(await fleet.sqsRequests());

    // Every user of the stream: its value, and when it was answered and first seen in IM.
    const pending = new Map<string, { value: string; answeredAt: number | undefined; appliedAt: number | undefined }>();
    const watch = setInterval(() => {
      const now = epochMs();
      for (const [account, user] of pending) {
        if (user.appliedAt === undefined && emulator.attrs.get(account)?.['city'] === user.value) user.appliedAt = now;
      }
    }, 5);
    const answerMs: number[] = [];
    const statuses: number[] = [];
    const count = Math.round(level.rate * SECONDS);
    const t0 = epochMs() + 100;
    const requests: Promise<void>[] = [];
    let bulk: { answeredAt: number; done: number | undefined } | undefined;
    const bulkAt = t0 + (SECONDS * 1000) / 3;
    const bulkAccounts = Array.from({ length: BULK_USERS }, (_, i) => `bulk-${run}-${i}`);
    const sendBulk = async (): Promise<void> => {
      while (epochMs() < bulkAt) await sleep(5);
      const body = JSON.stringify({ UserAttrs: bulkAccounts.map((a) => ({ To_Account: a, Attrs: { city: 'b' } })) });
      const copy = bulkCopy as ChildProcess;
      const answered = new Promise<{ answeredAt: number }>((resolve) => copy.once('message', resolve));
      copy.send({ kind: 'request', id: 0, body });
      bulk = { answeredAt: (await answered).answeredAt, done: undefined };
      while (bulk.done === undefined) {
        if (bulkAccounts.every((a) => emulator.attrs.has(a))) bulk.done = epochMs();
        else await sleep(20);
      }
    };
    const bulkDone = level.bulk ? sendBulk() : Promise.resolve();
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / level.rate;
      while (epochMs() < due) await sleep(Math.max(0, Math.min(5, due - epochMs())));
      const users = Array.from({ length: level.usersEach }, (_, k) => ({
        To_Account: `s${run}-${i}-${k}`,
        Attrs: { city: `v${i}` },
      }));
      for (const u of users)
        pending.set(u.To_Account, { value: u.Attrs.city, answeredAt: undefined, appliedAt: undefined });
      requests.push(
        send(i, JSON.stringify({ UserAttrs: users })).then(({ status, answeredAt }) => {
          statuses.push(status);
          answerMs.push(answeredAt - due);
          for (const u of users) {
            const entry = pending.get(u.To_Account);
            if (entry !== undefined) entry.answeredAt = answeredAt;
          }
        }),
      );
    }
    const streamEnd = t0 + ((count - 1) * 1000) / Math.max(1, level.rate);
    await Promise.all(requests);
    await bulkDone;
    const until = Date.now() + 60_000;
    while ([...pending.values()].some((u) => u.appliedAt === undefined) && Date.now() < until) await sleep(20);
    clearInterval(watch);
    const users = [...pending.values()];
    const lastApplied = Math.max(streamEnd, ...users.map((u) => u.appliedAt ?? Number.NaN).filter(Number.isFinite));
    const calls = emulator.counters.callsByCommand.get('im_set_attr') ?? 0;
    return {
      level,
      answers: {
        ok: statuses.filter((s) => s >= 200 && s < 300).length,
        client: statuses.filter((s) => s >= 400 && s < 500).length,
        server: statuses.filter((s) => s >= 500).length,
      },
      answerMs: answerMs.sort((a, b) => a - b),
      lagMs: users
        .map((u) => Math.max(0, (u.appliedAt ?? Number.POSITIVE_INFINITY) - (u.answeredAt ?? 0)))
        .sort((a, b) => a - b),
      users: users.length + (level.bulk ? BULK_USERS : 0),
      calls,
      rateLimited:
        (emulator.counters.rejectedByCode.get(60007) ?? 0) + (emulator.counters.rejectedByCode.get(60011) ?? 0),
      sqsRequests: sum(await fleet.sqsRequests()) - sqsBefore,
      tailMs: lastApplied - streamEnd,
      missing: users.filter((u) => u.appliedAt === undefined).length,
      bulkUsersPerSecond: bulk?.done === undefined ? undefined : BULK_USERS / ((bulk.done - bulk.answeredAt) / 1000),
    };
  } finally {
    await fleet.close();
  }
}

const ms = (n: number): string => (Number.isFinite(n) ? `${Math.round(n)} ms` : 'n/a');
const results: LevelResult[] = [];
const failures: string[] = [];
let run = 0;
process.stdout.write(
  `stream: ${SECONDS} s per level, ${API_COPIES} API copies, ${WORKERS} worker copies, laneCount ${DEFAULTS.laneCount}\n`,
);
for (const name of values.levels.split(',')) {
  for (const level of LEVELS[name] ?? []) {
    const r = await runLevel(level, run++);
    results.push(r);
    const check = (ok: boolean, what: string): void => void (ok || failures.push(`${level.name}: ${what}`));
    const lag99 = percentile(r.lagMs, 0.99);
    const answer99 = percentile(r.answerMs, 0.99);
    const limitedShare = r.rateLimited / Math.max(1, r.calls);
    const per100 = (r.calls * 100) / Math.max(1, r.users);
    process.stdout.write(
      `${level.name}: ${level.rate} webhooks/s × ${level.usersEach} user(s)${level.bulk ? ` + a ${BULK_USERS.toLocaleString('en-US')}-user webhook` : ''}, IM ${level.imRateLimit} calls/s: ` +
        `answers ${r.answers.ok} 2xx / ${r.answers.client} 4xx / ${r.answers.server} 5xx; answer p50 ${ms(percentile(r.answerMs, 0.5))} p99 ${ms(answer99)}; ` +
        `lag to IM p50 ${ms(percentile(r.lagMs, 0.5))} p99 ${ms(lag99)}; last user ${ms(r.tailMs)} after the stream's end; ` +
        `${per100.toFixed(2)} IM calls per 100 users (${(r.users / Math.max(1, r.calls)).toFixed(1)} users per call); rate-limited ${r.rateLimited}/${r.calls} (${(limitedShare * 100).toFixed(2)} %); ` +
        `${(r.sqsRequests / Math.max(1, r.users)).toFixed(2)} SQS requests per user` +
        `${r.bulkUsersPerSecond === undefined ? '' : `; bulk drained at ${Math.round(r.bulkUsersPerSecond).toLocaleString('en-US')} users/s`}${r.missing > 0 ? `; ${r.missing} users MISSING` : ''}\n`,
    );
    check(r.missing === 0, `${r.missing} users never reached IM`);
    if (level.rate === 0) continue;
    if (level.name === 'light') check(lag99 <= 1_000, `lag p99 ${ms(lag99)} > 1 s`);
    if (level.name.startsWith('stream-')) {
      check(r.answers.ok === Math.round(level.rate * SECONDS), 'not every webhook answered 2xx');
      check(answer99 <= 1_000, `answer p99 ${ms(answer99)} > 1 s`);
      check(lag99 <= 2_000, `lag p99 ${ms(lag99)} > 2 s`);
      check(limitedShare <= 0.005, `rate-limited ${(limitedShare * 100).toFixed(2)} % > 0.5 %`);
    }
    if (level.name === 'saturation') {
      check(r.tailMs <= 5_000, `last user ${ms(r.tailMs)} after the stream's end > 5 s`);
      check(per100 <= 10, `${per100.toFixed(2)} IM calls per 100 users > 10`);
      check(lag99 <= 5_000, `lag p99 ${ms(lag99)} > 5 s`);
      check(limitedShare <= 0.005, `rate-limited ${(limitedShare * 100).toFixed(2)} % > 0.5 %`);
    }
    if (level.name === 'mixed') {
      check(lag99 <= 5_000, `stream lag p99 ${ms(lag99)} > 5 s while the bulk drains`);
      const alone = results.find((x) => x.level.name === 'bulk-alone')?.bulkUsersPerSecond;
      if (alone !== undefined && r.bulkUsersPerSecond !== undefined) {
        process.stdout.write(
          `mixed: the bulk drained at ${(r.bulkUsersPerSecond / alone).toFixed(2)} × its rate alone (target ≥ 0.8)\n`,
        );
        check(r.bulkUsersPerSecond >= 0.8 * alone, 'the bulk drained below 0.8 × its rate alone');
      }
    }
  }
}
process.stdout.write(
  failures.length === 0 ? 'stream: targets met\n' : `stream: targets MISSED:\n  ${failures.join('\n  ')}\n`,
);
process.exitCode = failures.length === 0 ? 0 : 1;
