/**
 * The fault soak: users sent as signed webhooks of mixed sizes and as producer messages straight to the
 * queue, while the IM emulator injects transient faults of every kind, with planted permanently-bad users
 * riding along. It checks the promise: every good user ends applied in IM, every bad user is rejected or
 * dead-lettered with its reason, and nothing else is dead-lettered.
 */
import { mulberry32 } from '../emulator/index.ts';
import type { FaultOptions } from '../emulator/index.ts';
import { apiEvent, lambdaContext, parseBody } from '../helpers/factories.ts';
import { startStack } from '../helpers/stack.ts';

export interface SoakOptions {
  readonly users: number;
  readonly seed?: number;
  /** Share of planted bad users. Default 0.01. */
  readonly badShare?: number;
  /** Share of users sent as webhooks; the rest go straight to the queue. Default 0.6. */
  readonly webhookShare?: number;
  readonly faults?: FaultOptions;
  readonly workers?: number;
  readonly log?: (line: string) => void;
}

export interface SoakTally {
  readonly received: number;
  readonly good: number;
  readonly bad: number;
  readonly applied: number;
  /** IM calls answered with a fault and tried again. */
  readonly retried: number;
  readonly rejected: number;
  readonly deadLettered: number;
  /** Good users not applied as sent, and bad users neither rejected nor dead-lettered. */
  readonly lost: number;
  /** Users found in the dead-letter queue that should not be there. */
  readonly wronglyDeadLettered: number;
  readonly webhooks: number;
  readonly producerMessages: number;
  readonly imCalls: number;
  readonly faultsInjected: number;
  readonly seconds: number;
}

/** About 20% of calls fail transiently, spread over every kind. */
export const SOAK_FAULTS: FaultOptions = {
  p91000: 0.04,
  p70169: 0.03,
  p60008: 0.03,
  pRateLimit: 0.03,
  pHttp502: 0.03,
  pReset: 0.03,
  pSlow: 0.005,
  slowMs: 6_000,
  latencyMs: [2, 10],
};

interface Entry {
  readonly To_Account: string;
  readonly Attrs: Record<string, unknown>;
}

const API_COPIES = 4;

const BAD_KINDS = [
  (acc: string): Entry => ({ To_Account: acc, Attrs: { planet: 'Mars' } }),
  (acc: string): Entry => ({ To_Account: acc, Attrs: { city: '城'.repeat(17) } }),
  (acc: string): Entry => ({ To_Account: acc, Attrs: { tier: 3 } }),
];

export async function runSoak(options: SoakOptions): Promise<SoakTally> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const random = mulberry32(options.seed ?? 7);
  const badShare = options.badShare ?? 0.01;
  const webhookShare = options.webhookShare ?? 0.6;

  // Unique accounts, so the expected final state of each is exactly what was sent for it.
  const good = new Map<string, Record<string, string>>();
  const bad = new Set<string>();
  const entries: Entry[] = [];
  for (let i = 0; i < options.users; i++) {
    const account = `soak-${i}`;
    if (random() < badShare) {
      bad.add(account);
      entries.push(BAD_KINDS[i % BAD_KINDS.length]?.(account) ?? { To_Account: account, Attrs: {} });
    } else {
      const attrs = { city: `c${i % 1000}`, tier: `t${i % 7}`, lang: i % 2 === 0 ? 'zh' : 'en' };
      good.set(account, attrs);
      entries.push({ To_Account: account, Attrs: attrs });
    }
  }

  const workers = options.workers ?? 4;
  const stack = await startStack({
    faults: options.faults ?? SOAK_FAULTS,
    seed: options.seed ?? 7,
    env: { API_RATE_SHARE: '12', API_MAX_CONCURRENCY: String(API_COPIES), WORKER_MAX_CONCURRENCY: String(Math.max(2, workers)), LOG_LEVEL: 'WARN' },
  });
  try {
    // One handler per API copy: a Lambda copy serves one invocation at a time.
    const idle = Array.from({ length: API_COPIES }, () => stack.copy().api);
    stack.startWorkers({ concurrency: workers, retryVisibilitySeconds: 1 });
    const rejected = new Set<string>();
    let webhooks = 0;
    let producerMessages = 0;
    let at = 0;
    const sendWebhook = async (batch: Entry[]): Promise<void> => {
      const api = idle.pop();
      if (api === undefined) throw new Error('no idle API copy');
      const result = await api(apiEvent(JSON.stringify({ UserAttrs: batch })), lambdaContext()).finally(() => idle.push(api));
      const body = parseBody(result);
      if (result.statusCode !== 200 && result.statusCode !== 202 && result.statusCode !== 422) throw new Error(`webhook answered ${result.statusCode}: ${result.body ?? ''}`);
      for (const r of (body.RejectedUsers as { To_Account: string | null; Rule: string }[] | undefined) ?? []) if (r.To_Account !== null && r.Rule !== '') rejected.add(r.To_Account);
      webhooks++;
    };
    const pending: Promise<void>[] = [];
    while (at < entries.length) {
      // Mixed sizes: mostly small, sometimes thousands of users.
      const size = Math.max(1, Math.floor(random() < 0.8 ? random() * 300 : random() * 5000));
      const batch = entries.slice(at, at + size);
      at += batch.length;
      if (random() < webhookShare) pending.push(sendWebhook(batch));
      else {
        pending.push(stack.send(JSON.stringify({ UserAttrs: batch }), { origin: 'producer' }));
        producerMessages++;
      }
      if (pending.length >= API_COPIES) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    log(`soak: ${webhooks} webhooks and ${producerMessages} producer messages sent in ${((Date.now() - started) / 1000).toFixed(1)} s; draining`);
    await stack.drained(options.users * 20 + 120_000);

    const deadLettered = new Set<string>();
    let deadWithoutReason = 0;
    for (const message of await stack.takeAll(stack.dlqUrl)) {
      const reason = message.MessageAttributes?.rule?.StringValue;
      if (reason === undefined) deadWithoutReason++;
      let users: { To_Account?: unknown }[] = [];
      try {
        users = (JSON.parse(message.Body ?? '{}') as { UserAttrs?: { To_Account?: unknown }[] }).UserAttrs ?? [];
      } catch {
        deadWithoutReason++;
      }
      for (const u of users) if (typeof u.To_Account === 'string') deadLettered.add(u.To_Account);
    }
    let applied = 0;
    let lost = 0;
    for (const [account, attrs] of good) {
      const stored = stack.emulator.attrs.get(account);
      if (stored !== undefined && Object.keys(attrs).every((k) => stored[k] === attrs[k])) applied++;
      else lost++;
    }
    for (const account of bad) if (!rejected.has(account) && !deadLettered.has(account)) lost++;
    const wronglyDeadLettered = [...deadLettered].filter((a) => !bad.has(a)).length + deadWithoutReason;
    const counters = stack.emulator.counters;
    const faultsInjected = [...counters.rejectedByCode.values()].reduce((a, b) => a + b, 0) + counters.http502 + counters.resets + counters.slow;
    return {
      received: options.users,
      good: good.size,
      bad: bad.size,
      applied,
      retried: faultsInjected,
      rejected: [...bad].filter((a) => rejected.has(a)).length,
      deadLettered: [...bad].filter((a) => deadLettered.has(a)).length,
      lost,
      wronglyDeadLettered,
      webhooks,
      producerMessages,
      imCalls: counters.calls,
      faultsInjected,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await stack.close();
  }
}

export function formatTally(t: SoakTally): string {
  return [
    `soak tally: received ${t.received} (good ${t.good}, planted bad ${t.bad}) via ${t.webhooks} webhooks + ${t.producerMessages} producer messages`,
    `  applied ${t.applied}, rejected ${t.rejected}, dead-lettered ${t.deadLettered}, retried ${t.retried} (IM calls ${t.imCalls}, faults injected ${t.faultsInjected})`,
    `  lost ${t.lost}, wrongly dead-lettered ${t.wronglyDeadLettered}, in ${t.seconds.toFixed(1)} s`,
  ].join('\n');
}
