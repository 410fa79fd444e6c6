/**
 * The fault soak: updates sent as signed webhooks of mixed sizes and as producer messages to the intake
 * queue, while the IM emulator injects transient faults of every kind, with planted permanently-bad users
 * riding along. Most accounts are updated more than once (values changed, attributes removed with `null`,
 * the same account twice in one request), in rounds ordered as the promise defines "last": a round starts
 * once every webhook of the previous one was answered and every producer message of it was moved into lanes.
 *
 * Tag operations ride in the same rounds (webhooks to `/v1/user-tags` and `{"UserTags"}` producer messages): adds
 * (some over 10 tags, split into several calls), removes and remove-alls of the same accounts.
 *
 * It checks the promise: every good account ends in IM with exactly its last accepted values and the tag set of
 * its accepted tag operations in order, every bad user is refused with its rule (in the webhook's answer, or in
 * the dead-letter queue for producer messages), and nothing else is dead-lettered.
 */
import DEFAULTS from '../../lib/config/defaults.json' with { type: 'json' };
import { mulberry32 } from '../../local/emulator/index.ts';
import type { FaultOptions } from '../../local/emulator/index.ts';
import { apiEvent, lambdaContext, parseBody } from '../helpers/factories.ts';
import { startStack } from '../helpers/stack.ts';

export interface SoakOptions {
  /** Update entries to send, good and bad. */
  readonly users: number;
  readonly seed?: number;
  /** Share of planted bad users. Default 0.01. */
  readonly badShare?: number;
  /** Share of requests sent as webhooks; the rest go to the intake queue. Default 0.6. */
  readonly webhookShare?: number;
  readonly faults?: FaultOptions;
  /**
   * Worker copies (WORKER_MAX_CONCURRENCY), each paced at its share of the fleet budget and fed by its own
   * event sources (2 lane pollers, 1 intake poller). Default 2.
   */
  readonly workers?: number;
  readonly log?: (line: string) => void;
}

export interface SoakTally {
  /** Entries sent. */
  readonly received: number;
  /** Good accounts, and the entries that updated them. */
  readonly good: number;
  readonly goodEntries: number;
  readonly bad: number;
  /** Good accounts holding exactly their last accepted values in IM. */
  readonly applied: number;
  /** Accounts given tag operations, and tag entries sent for them. */
  readonly tagged: number;
  readonly tagEntries: number;
  /** Tagged accounts holding exactly the tag set of their accepted operations. */
  readonly tagsApplied: number;
  /** Planted bad tags entries (counted in `bad` too). */
  readonly badTags: number;
  /** Bad users refused in a webhook's answer with their rule. */
  readonly rejected: number;
  /** Bad users in the dead-letter queue with their rule. */
  readonly deadLettered: number;
  /** Good accounts not holding their last values, and bad users neither refused nor dead-lettered with their rule. */
  readonly lost: number;
  /** Good users (or letters without a reason) found in the dead-letter queue. */
  readonly wronglyDeadLettered: number;
  /** Good users a webhook's answer listed as rejected, and bad users that reached IM. */
  readonly wronglyRejected: number;
  /** Rejections a webhook's answer did not list (RejectedUsersOmitted): they cannot be checked. */
  readonly omitted: number;
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

type Attrs = Record<string, string | number | null>;

interface Entry {
  readonly To_Account: string;
  readonly Attrs: Attrs;
}

/** A tags entry as the tags route takes it. */
interface TagEntry {
  readonly To_Account: string;
  readonly RemoveAll?: true;
  readonly Remove?: readonly string[];
  readonly Add?: readonly string[];
}

/** Share of a round's good accounts also given tag operations. */
const TAGGED_SHARE = 0.4;
/** The rule a planted bad tags entry breaks (a 51-byte tag). */
const BAD_TAG_RULE = 'tag-max-50-bytes';

const API_COPIES = 4;
const PRODUCER_GROUPS = 4;
/** Entries per round: first values of new accounts, then updates of some of them, then of fewer. */
const ROUND_SHARES = [0.5, 0.3, 0.2] as const;
/** Chance that a good entry is followed, later in the same request, by another entry for the same account. */
const DUPLICATE_SHARE = 0.03;

const BAD_KINDS: readonly { readonly rule: string; readonly attrs: Attrs }[] = [
  { rule: 'attr-name-unregistered', attrs: { planet: 'Mars' } },
  { rule: 'value-max-50-bytes', attrs: { city: '城'.repeat(17) } },
  { rule: 'value-must-be-string', attrs: { tier: 3 } },
];
const CITIES = ['Singapore', '深圳', 'Zürich', 'São Paulo', '東京', 'Lagos'] as const;

/** One request of a round: a webhook or an intake message, of attribute updates or tag operations. */
interface Request {
  readonly entries: readonly Entry[];
  readonly tags?: readonly TagEntry[];
  readonly via: 'webhook' | 'intake';
}

/** The whole plan, decided from the seed before anything is sent. */
interface Plan {
  readonly rounds: readonly (readonly Request[])[];
  /** Good accounts and the values they must end with (a removed attribute is absent). */
  readonly expected: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Tagged accounts and the tags they must end with. */
  readonly expectedTags: ReadonlyMap<string, ReadonlySet<string>>;
  readonly tagEntries: number;
  /** Bad accounts and the rule that refuses each. */
  readonly bad: ReadonlyMap<string, { readonly rule: string; readonly via: Request['via'] }>;
  readonly entries: number;
  readonly goodEntries: number;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function planSoak(users: number, random: () => number, badShare: number, webhookShare: number): Plan {
  const expected = new Map<string, Record<string, string>>();
  const expectedTags = new Map<string, Set<string>>();
  const bad = new Map<string, { rule: string; via: Request['via'] }>();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  /** A later update: a new city, sometimes a new tier or lang, sometimes one of them removed. */
  const update = (round: number, i: number): Attrs => {
    const attrs: Attrs = { city: `${pick(CITIES)}-${round}-${i % 100}` };
    const tier = random();
    if (tier < 0.2) attrs.tier = null;
    else if (tier < 0.6) attrs.tier = `r${round}t${i % 7}`;
    const lang = random();
    if (lang < 0.1) attrs.lang = null;
    else if (lang < 0.3) attrs.lang = pick(['zh', 'en', 'fr', 'de']);
    return attrs;
  };
  const rounds: Request[][] = [];
  let previous: string[] = [];
  let fresh = 0;
  let badCount = 0;
  let entries = 0;
  let goodEntries = 0;
  for (const [round, share] of ROUND_SHARES.entries()) {
    const count = Math.round(users * share);
    const candidates = shuffled(previous, random);
    const list: { entry: Entry; bad?: string }[] = [];
    for (let i = 0; i < count; i++) {
      if (random() < badShare || (round > 0 && candidates.length === 0)) {
        const kind = BAD_KINDS[badCount % BAD_KINDS.length] ?? { rule: '', attrs: {} };
        const account = `soak-bad-${badCount++}`;
        list.push({ entry: { To_Account: account, Attrs: kind.attrs }, bad: kind.rule });
      } else if (round === 0) {
        const account = `soak-${fresh++}`;
        list.push({
          entry: {
            To_Account: account,
            Attrs: { city: `c${i % 1000}`, tier: `t${i % 7}`, lang: i % 2 === 0 ? 'zh' : 'en' },
          },
        });
      } else {
        list.push({ entry: { To_Account: candidates.pop() as string, Attrs: update(round, i) } });
      }
    }
    // Requests of mixed sizes: mostly small, sometimes thousands of users.
    const requests: Request[] = [];
    for (let at = 0; at < list.length;) {
      const size = Math.max(1, Math.floor(random() < 0.8 ? random() * 300 : random() * 5_000));
      const slice = list.slice(at, at + size);
      at += slice.length;
      const via = random() < webhookShare ? 'webhook' : 'intake';
      const out: Entry[] = slice.map((s) => s.entry);
      for (const s of slice) {
        if (s.bad !== undefined) bad.set(s.entry.To_Account, { rule: s.bad, via });
        else if (random() < DUPLICATE_SHARE) out.push({ To_Account: s.entry.To_Account, Attrs: update(round, at) });
      }
      requests.push({ entries: out, via });
    }
    // The values each good account must end with: its entries folded in the order they were accepted.
    for (const request of requests) {
      for (const entry of request.entries) {
        entries++;
        if (bad.has(entry.To_Account)) continue;
        goodEntries++;
        const state = expected.get(entry.To_Account) ?? {};
        for (const [name, value] of Object.entries(entry.Attrs)) {
          if (value === null) Reflect.deleteProperty(state, name);
          else state[name] = String(value);
        }
        expected.set(entry.To_Account, state);
      }
    }
    requests.push(...planTagRequests(round, list, random, webhookShare, bad, expectedTags));
    rounds.push(requests);
    previous = list.filter((l) => l.bad === undefined).map((l) => l.entry.To_Account);
  }
  const tagEntries = rounds.flat().reduce((n, r) => n + (r.tags?.length ?? 0), 0);
  return { rounds, expected, expectedTags, tagEntries, bad, entries, goodEntries };
}

/**
 * A round's tag requests: operations for some of the round's good accounts (each at most once a round, as the
 * round's requests run side by side), and planted bad entries; the expected tag sets folded on the way.
 */
function planTagRequests(
  round: number,
  list: readonly { entry: Entry; bad?: string }[],
  random: () => number,
  webhookShare: number,
  bad: Map<string, { rule: string; via: Request['via'] }>,
  expectedTags: Map<string, Set<string>>,
): Request[] {
  const entries: { entry: TagEntry; bad?: boolean }[] = [];
  for (const [i, { entry, bad: isBad }] of list.entries()) {
    if (isBad !== undefined || random() >= TAGGED_SHARE) continue;
    const held = [...(expectedTags.get(entry.To_Account) ?? [])];
    const roll = random();
    const tags: TagEntry =
      round === 0 || held.length === 0
        ? { To_Account: entry.To_Account, Add: [`t${i % 5}`, `grp-${i % 3}`] }
        : roll < 0.2
          ? { To_Account: entry.To_Account, RemoveAll: true, Add: [`r${round}`] }
          : roll < 0.6
            ? { To_Account: entry.To_Account, Remove: [held[i % held.length] ?? 'none'], Add: [`r${round}-${i % 4}`] }
            : // Some adds of 12 tags: more than one add call carries them.
              {
                To_Account: entry.To_Account,
                Add: Array.from({ length: roll < 0.65 ? 12 : 2 }, (_, k) => `x${round}-${k}`),
              };
    entries.push({ entry: tags });
    if (random() < 0.01) {
      const account = `soak-badtag-${round}-${i}`;
      entries.push({ entry: { To_Account: account, Add: ['ok', 'x'.repeat(51)] }, bad: true });
    }
  }
  const requests: Request[] = [];
  for (let at = 0; at < entries.length;) {
    const size = Math.max(1, Math.floor(random() < 0.8 ? random() * 300 : random() * 3_000));
    const slice = entries.slice(at, at + size);
    at += slice.length;
    const via = random() < webhookShare ? 'webhook' : 'intake';
    for (const { entry, bad: isBad } of slice) {
      if (isBad === true) {
        bad.set(entry.To_Account, { rule: BAD_TAG_RULE, via });
        continue;
      }
      const held = expectedTags.get(entry.To_Account) ?? new Set<string>();
      if (entry.RemoveAll === true) held.clear();
      for (const tag of entry.Remove ?? []) held.delete(tag);
      for (const tag of entry.Add ?? []) held.add(tag);
      expectedTags.set(entry.To_Account, held);
    }
    requests.push({ entries: [], tags: slice.map((e) => e.entry), via });
  }
  return requests;
}

/** Same names and values, whatever the order of the keys. */
const sameAttrs = (a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean =>
  a !== undefined && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);

export async function runSoak(options: SoakOptions): Promise<SoakTally> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const random = mulberry32(options.seed ?? 7);
  const plan = planSoak(options.users, random, options.badShare ?? 0.01, options.webhookShare ?? 0.6);

  const workers = Math.max(2, options.workers ?? 2);
  const reserved = Math.max(DEFAULTS.workerReservedConcurrency, workers);
  const stack = await startStack({
    faults: options.faults ?? SOAK_FAULTS,
    seed: options.seed ?? 7,
    env: {
      API_RATE_SHARE: '12',
      API_MAX_CONCURRENCY: String(API_COPIES),
      WORKER_MAX_CONCURRENCY: String(workers),
      WORKER_RESERVED_CONCURRENCY: String(reserved),
      LOG_LEVEL: 'WARN',
    },
  });
  try {
    // One handler per API copy: a Lambda copy serves one invocation at a time.
    const idle = Array.from({ length: API_COPIES }, () => stack.copy().api);
    for (let i = 0; i < workers; i++) stack.startWorkers({ concurrency: 2 });
    const rejected = new Map<string, string>();
    let omitted = 0;
    let webhooks = 0;
    let producerMessages = 0;
    const sendWebhook = async (request: Request): Promise<void> => {
      const api = idle.pop();
      if (api === undefined) throw new Error('no idle API copy');
      const event =
        request.tags === undefined
          ? apiEvent(JSON.stringify({ UserAttrs: request.entries }))
          : apiEvent(JSON.stringify({ UserTags: request.tags }), { path: '/v1/user-tags' });
      const result = await api(event, lambdaContext()).finally(() => idle.push(api));
      if (result.statusCode !== 200 && result.statusCode !== 202 && result.statusCode !== 422)
        throw new Error(`webhook answered ${result.statusCode}: ${result.body ?? ''}`);
      const body = parseBody(result);
      for (const r of (body.RejectedUsers as { To_Account: string | null; Rule: string }[] | undefined) ?? [])
        if (r.To_Account !== null) rejected.set(r.To_Account, r.Rule);
      omitted += Number(body.RejectedUsersOmitted ?? 0);
      webhooks++;
    };
    for (const [round, requests] of plan.rounds.entries()) {
      const pending: Promise<unknown>[] = [];
      for (const request of requests) {
        const body = JSON.stringify(
          request.tags === undefined ? { UserAttrs: request.entries } : { UserTags: request.tags },
        );
        if (request.via === 'webhook') pending.push(sendWebhook(request));
        else pending.push(stack.sendIntake(body, { groupId: `producer-${producerMessages++ % PRODUCER_GROUPS}` }));
        if (pending.length >= API_COPIES) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      // The next round's updates must come after this round's: producer messages take their place when moved into lanes.
      await stack.intakeMoved(120_000);
      log(
        `soak: round ${round}: ${requests.length} requests accepted, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    log(
      `soak: ${webhooks} webhooks and ${producerMessages} producer messages sent in ${((Date.now() - started) / 1000).toFixed(1)} s; draining`,
    );
    await stack.drained(options.users * 20 + 120_000);

    const deadLettered = new Map<string, string>();
    let deadWithoutReason = 0;
    for (const message of await stack.takeAll(stack.dlqUrl)) {
      const rule = message.MessageAttributes?.rule?.StringValue;
      if (rule === undefined) deadWithoutReason++;
      let users: { To_Account?: unknown }[] = [];
      try {
        const body = JSON.parse(message.Body ?? '{}') as {
          UserAttrs?: { To_Account?: unknown }[];
          UserTags?: { To_Account?: unknown }[];
        };
        users = body.UserAttrs ?? body.UserTags ?? [];
      } catch {
        deadWithoutReason++;
      }
      for (const u of users) if (typeof u.To_Account === 'string') deadLettered.set(u.To_Account, rule ?? '');
    }
    let applied = 0;
    let lost = 0;
    for (const [account, attrs] of plan.expected) {
      if (sameAttrs(stack.emulator.attrs.get(account), attrs)) applied++;
      else lost++;
    }
    let tagsApplied = 0;
    for (const [account, tags] of plan.expectedTags) {
      const held = stack.emulator.tags.get(account) ?? new Set<string>();
      if (held.size === tags.size && [...tags].every((tag) => held.has(tag))) tagsApplied++;
      else lost++;
    }
    let rejectedBad = 0;
    let deadLetteredBad = 0;
    let badApplied = 0;
    for (const [account, { rule, via }] of plan.bad) {
      if (stack.emulator.attrs.has(account) || stack.emulator.tags.has(account)) badApplied++;
      if (via === 'webhook' && rejected.get(account) === rule) rejectedBad++;
      else if (via === 'intake' && deadLettered.get(account) === rule) deadLetteredBad++;
      else lost++;
    }
    const counters = stack.emulator.counters;
    const faultsInjected =
      [...counters.rejectedByCode.values()].reduce((a, b) => a + b, 0) +
      counters.http502 +
      counters.resets +
      counters.slow;
    return {
      received: plan.entries,
      good: plan.expected.size,
      goodEntries: plan.goodEntries,
      bad: plan.bad.size,
      applied,
      tagged: plan.expectedTags.size,
      tagEntries: plan.tagEntries,
      tagsApplied,
      badTags: [...plan.bad.values()].filter((b) => b.rule === BAD_TAG_RULE).length,
      rejected: rejectedBad,
      deadLettered: deadLetteredBad,
      lost,
      wronglyDeadLettered: [...deadLettered.keys()].filter((a) => !plan.bad.has(a)).length + deadWithoutReason,
      wronglyRejected: [...rejected.keys()].filter((a) => !plan.bad.has(a)).length + badApplied,
      omitted,
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
    `soak tally: received ${t.received} entries (${t.goodEntries} for ${t.good} good accounts, ${t.bad} planted bad) via ${t.webhooks} webhooks + ${t.producerMessages} producer messages`,
    `  tags: ${t.tagEntries} entries for ${t.tagged} accounts, ${t.tagsApplied} ending with their exact tag set`,
    `  applied ${t.applied} with their last values, bad rejected ${t.rejected}, bad dead-lettered ${t.deadLettered} (IM calls ${t.imCalls}, faults injected ${t.faultsInjected})`,
    `  lost ${t.lost}, wrongly dead-lettered ${t.wronglyDeadLettered}, wrongly rejected ${t.wronglyRejected}, unlisted rejections ${t.omitted}, in ${t.seconds.toFixed(1)} s`,
  ].join('\n');
}
