/**
 * `dlq replay`: dead letters back to the intake queue, oldest first, as ONE message group for the whole replay
 * (so the worker moves them into lanes in that order). A letter is deleted only after SQS took its message; a
 * letter that could not be sent, and every later one, is made visible again.
 */
import { randomBytes } from 'node:crypto';
import { ATTR, userTagsBody, userUpdatesBody } from '../../lib/queue/message-format.ts';
import type { BatchEntry } from '../../lib/queue/sqs-batch.ts';
import { checkUser } from '../../lib/core/rules/check-user.ts';
import { chunk } from '../../lib/core/rules/chunk.ts';
import { checkTagEntry, toUserTagOps } from '../../lib/core/rules/tag-entry.ts';
import { composeTagOps } from '../../lib/core/rules/tag-ops.ts';
import type { UserTagOps, UserUpdate } from '../../lib/core/rules/types.ts';
import type { ReplayOptions } from './options.ts';
import type { CliContext } from '../context.ts';
import { describeError } from '../describe-error.ts';
import { EXIT } from '../exit-codes.ts';
import { renderTable, writeJson, writeLine } from '../output.ts';
import { sendInOrder } from '../send-to-queue.ts';
import { deleteDeadLetters, releaseDeadLetters, type DeadLetter } from './dead-letters.ts';
import { verifyAgainstIm, verifyTagsAgainstIm, type SkippedAttr } from './verify-replay.ts';

const SKIP_WORDS: Readonly<Record<SkippedAttr['reason'], string>> = {
  'already-applied': 'IM already holds this value',
  'changed-since': 'IM holds another value (maybe newer)',
  'maybe-removed-since': 'IM holds no value: maybe removed since (--include-absent replays it)',
};

/** In a table, skipped attributes beyond this many are counted, not listed (--json lists all). */
const SKIPPED_ROWS = 50;

type Outcome =
  | 'replayed'
  | 'replayed, kept: maybe removed since'
  | 'nothing-to-replay'
  | 'kept: changed since'
  | 'kept: maybe removed since'
  | 'kept: not IM body'
  | 'kept: not sent';

interface LetterPlan {
  readonly letter: DeadLetter;
  /** The entries to send: all of them, or under --verify those with something left to write. */
  readonly entries: readonly unknown[];
  readonly skipped: readonly SkippedAttr[];
  outcome: Outcome;
}

/** How --verify reads one kind of letter: its entries by the rules, and what IM holds now for their users. */
interface VerifyKind<U extends { readonly To_Account: string }, Held> {
  /** The entry as the rules read it, or undefined when they refuse it. */
  readonly check: (entry: unknown) => U | undefined;
  /** What IM holds for up to 100 accounts. */
  readonly read: (im: ImReader, accounts: readonly string[]) => Promise<readonly (readonly [string, Held])[]>;
  readonly verify: (
    users: readonly U[],
    current: ReadonlyMap<string, Held>,
    includeAbsent: boolean,
  ) => { readonly keep: readonly U[]; readonly skipped: readonly SkippedAttr[] };
}

type ImReader = Awaited<ReturnType<CliContext['im']>>;

const ATTRS: VerifyKind<UserUpdate, Readonly<Record<string, string>>> = {
  check: (entry) => {
    const c = checkUser(entry);
    return c.ok ? c.user : undefined;
  },
  read: async (im, accounts) => (await im.getAttr(accounts)).map((u) => [u.To_Account, u.Attrs] as const),
  verify: verifyAgainstIm,
};

const TAGS: VerifyKind<UserTagOps, ReadonlySet<string>> = {
  check: (entry) => {
    const c = checkTagEntry(entry);
    return c.ok ? toUserTagOps(c.account, composeTagOps(c.ops)) : undefined;
  },
  read: async (im, accounts) => (await im.getTags(accounts)).map((u) => [u.To_Account, new Set(u.Tags)] as const),
  verify: verifyTagsAgainstIm,
};

/**
 * Reads what IM holds now for the letters' users (100 accounts a call, paced) and keeps what cannot overwrite
 * anything: attribute values (`im_get_attr`) or tags (`im_get_tag`), by `kind`.
 */
async function verifyPlans<U extends { readonly To_Account: string }, Held>(
  ctx: CliContext,
  options: ReplayOptions,
  letters: readonly DeadLetter[],
  kind: VerifyKind<U, Held>,
): Promise<LetterPlan[]> {
  const parsed = letters.map((letter) => {
    const checked = (letter.users ?? []).map((entry) => ({ entry, user: kind.check(entry) }));
    return {
      letter,
      good: checked.flatMap((c) => (c.user === undefined ? [] : [c.user])),
      bad: checked.filter((c) => c.user === undefined).map((c) => c.entry),
    };
  });
  const accounts = [...new Set(parsed.flatMap((p) => p.good.map((u) => u.To_Account)))];
  const current = new Map<string, Held>();
  if (accounts.length > 0) {
    const im = await ctx.im(options, options.rate);
    for (const answer of await Promise.all(chunk(accounts, 100).map((part) => kind.read(im, part))))
      for (const [account, held] of answer) current.set(account, held);
  }
  return parsed.map(({ letter, good, bad }) => {
    const { keep, skipped } = kind.verify(good, current, options.includeAbsent === true);
    // Entries the rules refuse cannot be compared; they go back as they are, and the gateway judges them again.
    return planOf(letter, [...keep, ...bad], skipped);
  });
}

/** A letter's plan under --verify: what is left to send, and why the rest was skipped. */
function planOf(letter: DeadLetter, entries: readonly unknown[], skipped: readonly SkippedAttr[]): LetterPlan {
  const has = (reason: SkippedAttr['reason']): boolean => skipped.some((s) => s.reason === reason);
  const outcome: Outcome =
    entries.length > 0
      ? 'kept: not sent'
      : has('maybe-removed-since')
        ? 'kept: maybe removed since'
        : has('changed-since')
          ? 'kept: changed since'
          : 'nothing-to-replay';
  return { letter, entries, skipped, outcome };
}

/** Sends one message per letter, in order; stops at the first letter SQS does not take. */
async function sendPlans(ctx: CliContext, options: ReplayOptions, plans: readonly LetterPlan[]): Promise<unknown> {
  const target = await ctx.target(options);
  const intakeUrl = await target.queueUrl('intake');
  const runId = randomBytes(6).toString('hex');
  const group = `replay-${new Date().toISOString().replace(/[:.]/g, '-')}-${runId}`;
  const sending = plans.filter((p) => p.entries.length > 0);
  const entries: (BatchEntry & { plan: LetterPlan })[] = sending.map((plan) => {
    const id = `replay-${runId}-${plan.letter.messageId}`;
    return {
      plan,
      body: plan.letter.kind === 'tags' ? userTagsBody(plan.entries) : userUpdatesBody(plan.entries),
      attributes: { [ATTR.requestId]: id },
      groupId: group,
      dedupId: id,
    };
  });
  try {
    await sendInOrder(target.sqs, intakeUrl, entries, (entry) => {
      entry.plan.outcome = 'replayed';
    });
  } catch (error: unknown) {
    return error;
  }
  return undefined;
}

export async function replayDeadLetters(
  ctx: CliContext,
  options: ReplayOptions,
  dlqUrl: string,
  letters: readonly DeadLetter[],
): Promise<void> {
  const target = await ctx.target(options);
  const plans = await planReplay(ctx, options, letters);
  let failure: unknown;
  try {
    failure = await sendPlans(ctx, options, plans);
  } catch (error: unknown) {
    failure = error;
  }
  // A letter with attributes maybe removed since stays, for a look and a replay with --include-absent.
  for (const p of plans)
    if (p.outcome === 'replayed' && p.skipped.some((s) => s.reason === 'maybe-removed-since'))
      p.outcome = 'replayed, kept: maybe removed since';
  const done = plans.filter((p) => p.outcome === 'replayed' || p.outcome === 'nothing-to-replay').map((p) => p.letter);
  const kept = plans.filter((p) => !done.includes(p.letter)).map((p) => p.letter);
  const undeleted = await deleteDeadLetters(target.sqs, dlqUrl, done);
  await releaseDeadLetters(target.sqs, dlqUrl, kept);
  if (failure !== undefined || undeleted > 0) ctx.fail(EXIT.failed);
  reportReplay(ctx, options, plans, undeleted, failure);
}

/** What to send of each letter: all of it, or with --verify what IM does not already hold; a raw body stays. */
async function planReplay(
  ctx: CliContext,
  options: ReplayOptions,
  letters: readonly DeadLetter[],
): Promise<LetterPlan[]> {
  const readable = letters.filter((l) => l.users !== undefined);
  const plans =
    options.verify === true
      ? [
          ...(await verifyPlans(
            ctx,
            options,
            readable.filter((l) => l.kind === 'attrs'),
            ATTRS,
          )),
          ...(await verifyPlans(
            ctx,
            options,
            readable.filter((l) => l.kind === 'tags'),
            TAGS,
          )),
        ]
      : readable.map((letter): LetterPlan => ({
          letter,
          entries: letter.users ?? [],
          skipped: [],
          outcome: 'kept: not sent',
        }));
  // Oldest first, as the letters came: attribute and tag letters were verified apart.
  const order = new Map(letters.map((letter, i) => [letter, i]));
  plans.sort((a, b) => (order.get(a.letter) ?? 0) - (order.get(b.letter) ?? 0));
  return [
    ...plans,
    ...letters
      .filter((l) => l.users === undefined)
      .map((letter): LetterPlan => ({ letter, entries: [], skipped: [], outcome: 'kept: not IM body' })),
  ];
}

function reportReplay(
  ctx: CliContext,
  options: ReplayOptions,
  plans: readonly LetterPlan[],
  undeleted: number,
  failure: unknown,
): void {
  const skipped = plans.flatMap((p) => p.skipped);
  const usersSent = plans.filter((p) => p.outcome.startsWith('replayed')).reduce((n, p) => n + p.entries.length, 0);
  if (options.json === true) {
    writeJson(ctx.io.stdout, {
      letters: plans.map((p) => ({
        messageId: p.letter.messageId,
        rule: p.letter.rule,
        users: p.entries.length,
        skipped: p.skipped.length,
        outcome: p.outcome,
      })),
      usersSent,
      skipped,
      undeleted,
      error: failure === undefined ? undefined : describeError(failure),
    });
  } else if (plans.length === 0) {
    writeLine(ctx.io.stdout, 'No dead letters to replay.');
  } else {
    const rows = plans.map((p) => [
      p.letter.messageId,
      p.letter.rule,
      p.outcome.startsWith('replayed') ? p.entries.length : 0,
      p.skipped.length,
      p.outcome,
    ]);
    writeLine(ctx.io.stdout, renderTable(['letter', 'rule', 'users sent', 'attributes skipped', 'outcome'], rows));
    if (skipped.length > 0) {
      writeLine(
        ctx.io.stdout,
        renderTable(
          ['To_Account', 'attribute', 'skipped because'],
          skipped.slice(0, SKIPPED_ROWS).map((s) => [s.To_Account, s.name, SKIP_WORDS[s.reason]]),
        ),
      );
      if (skipped.length > SKIPPED_ROWS)
        writeLine(ctx.io.stdout, `… and ${skipped.length - SKIPPED_ROWS} more (--json lists all).`);
    }
    writeLine(
      ctx.io.stdout,
      `${usersSent} user(s) replayed to the intake queue; replayed letters deleted, the others kept.`,
    );
  }
  if (failure !== undefined)
    writeLine(
      ctx.io.stderr,
      `Replay stopped: ${describeError(failure)}. Letters not sent are back in the dead-letter queue.`,
    );
}
