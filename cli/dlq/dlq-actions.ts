/** What the `dlq` subcommands do; loaded when one runs (it brings the SQS client). */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { checkUser, isPlainRecord } from '../../lib/core/rules/check-user.ts';
import { checkTagEntry } from '../../lib/core/rules/tag-entry.ts';
import { queueDepth } from '../../lib/queue/queue-depth.ts';
import { confirm } from '../confirm.ts';
import type { PurgeOptions, ReadOptions, ReplayOptions } from './options.ts';
import type { CliContext } from '../context.ts';
import { groupDeadLetters, receiveDeadLetters, releaseDeadLetters, type DeadLetter } from './dead-letters.ts';
import { replayDeadLetters } from './replay.ts';
import { EXIT } from '../exit-codes.ts';
import { renderTable, writeJson, writeLine } from '../output.ts';

/** Letters stay hidden this long while ls/show read them (then they are made visible again at once). */
const READ_VISIBILITY_SECONDS = 60;
/** Letters stay hidden this long while a replay verifies and sends them. */
const REPLAY_VISIBILITY_SECONDS = 600;
const iso = (date: Date | undefined): string => date?.toISOString() ?? '—';

/** Reads letters (hidden for `visibilitySeconds`), keeps those of `--rule` and makes the others visible again. */
export async function readLetters(
  ctx: CliContext,
  options: ReadOptions,
  visibilitySeconds: number,
): Promise<{ queueUrl: string; letters: DeadLetter[] }> {
  const target = await ctx.target(options);
  const queueUrl = await target.queueUrl('deadLetter');
  const all = await receiveDeadLetters(target.sqs, queueUrl, { visibilitySeconds, max: options.max });
  if (options.rule === undefined) return { queueUrl, letters: all };
  await releaseDeadLetters(
    target.sqs,
    queueUrl,
    all.filter((l) => l.rule !== options.rule),
  );
  return { queueUrl, letters: all.filter((l) => l.rule === options.rule) };
}

/** Reads, lets `use` look, and always makes the letters visible again. */
async function peekLetters(
  ctx: CliContext,
  options: ReadOptions,
  use: (letters: readonly DeadLetter[]) => void,
): Promise<void> {
  const target = await ctx.target(options);
  const { queueUrl, letters } = await readLetters(ctx, options, READ_VISIBILITY_SECONDS);
  try {
    use(letters);
  } finally {
    await releaseDeadLetters(target.sqs, queueUrl, letters);
  }
}

function showLetter(letter: DeadLetter, index: number, total: number): string {
  const head = renderTable(
    [`letter ${index + 1} of ${total}`, letter.messageId],
    [
      ['sent', iso(letter.sentAt)],
      ['rule', letter.rule],
      [
        'ErrorCode',
        letter.errorCode === undefined
          ? '—'
          : `${letter.errorCode}${letter.errorInfo === undefined ? '' : ` ${letter.errorInfo}`}`,
      ],
      ['reason', letter.reason.split(' | ').join('\n')],
      ['requestId', letter.requestId ?? '—'],
      [
        'users',
        letter.users === undefined
          ? 'the body is not {"UserAttrs":[…]} or {"UserTags":[…]}: kept as received'
          : String(letter.users.length),
      ],
    ],
  );
  if (letter.kind === 'tags') {
    const rows = (letter.users ?? []).map((u) => {
      const c = checkTagEntry(u);
      if (!c.ok || !isPlainRecord(u)) return ['(unreadable)', JSON.stringify(u)];
      return [c.account, JSON.stringify(Object.fromEntries(Object.entries(u).filter(([key]) => key !== 'To_Account')))];
    });
    return rows.length === 0 ? head : `${head}\n${renderTable(['To_Account', 'tag operations'], rows)}`;
  }
  const users = (letter.users ?? []).map((u) => {
    const c = checkUser(u);
    return c.ok ? [c.user.To_Account, JSON.stringify(c.user.Attrs)] : ['(unreadable)', JSON.stringify(u)];
  });
  return users.length === 0 ? head : `${head}\n${renderTable(['To_Account', 'Attrs (null: remove)'], users)}`;
}

/** `dlq ls`: letters by rule and ErrorCode; the letters stay. */
export async function listLetters(ctx: CliContext, options: ReadOptions): Promise<void> {
  await peekLetters(ctx, options, (letters) => {
    const groups = groupDeadLetters(letters);
    if (options.json === true) {
      writeJson(ctx.io.stdout, {
        letters: letters.length,
        users: letters.reduce((n, l) => n + (l.users?.length ?? 0), 0),
        groups: groups.map((g) => ({ ...g, oldest: g.oldest?.toISOString() })),
      });
      return;
    }
    if (groups.length === 0) {
      writeLine(ctx.io.stdout, 'No dead letters.');
      return;
    }
    writeLine(
      ctx.io.stdout,
      renderTable(
        ['rule', 'ErrorCode', 'letters', 'users', 'oldest'],
        groups.map((g) => [g.rule, g.errorCode ?? '—', g.letters, g.users, iso(g.oldest)]),
      ),
    );
  });
}

/** `dlq show`: each letter, why and its users; the letters stay. */
export async function showLetters(ctx: CliContext, options: ReadOptions): Promise<void> {
  await peekLetters(ctx, options, (letters) => {
    if (options.json === true) {
      writeJson(ctx.io.stdout, {
        letters: letters.map(({ receiptHandle: _handle, body: _body, sentAt, ...rest }) => ({
          ...rest,
          sentAt: sentAt?.toISOString(),
        })),
      });
      return;
    }
    if (letters.length === 0) writeLine(ctx.io.stdout, 'No dead letters.');
    letters.forEach((letter, i) => writeLine(ctx.io.stdout, showLetter(letter, i, letters.length)));
  });
}

/** `dlq replay`: the letters back to the intake queue (see replay.ts). */
export async function replayLetters(ctx: CliContext, options: ReplayOptions): Promise<void> {
  const { letters, queueUrl } = await readLetters(ctx, options, REPLAY_VISIBILITY_SECONDS);
  if (letters.some((l) => l.rule === 'attr-name-unregistered')) {
    writeLine(
      ctx.io.stderr,
      "note: the gateway re-reads the app's attribute names every 5 minutes (ATTR_NAMES_CACHE_TTL_SECONDS): a letter replayed sooner after `names set` comes back with the same rule.",
    );
  }
  await replayDeadLetters(ctx, options, queueUrl, letters);
}

/** `dlq purge`: every letter deleted, after a yes. */
export async function purgeLetters(ctx: CliContext, options: PurgeOptions): Promise<void> {
  const target = await ctx.target(options);
  const queueUrl = await target.queueUrl('deadLetter');
  const depth = await queueDepth(target.sqs, queueUrl);
  const count = depth.visible + depth.inFlight + depth.delayed;
  if (
    options.yes !== true &&
    !(await confirm(
      ctx.io,
      `Delete all ${count} dead letter(s) of ${queueUrl}? They cannot be replayed afterwards.`,
      'purging the dead letters needs confirmation',
    ))
  ) {
    writeLine(ctx.io.stderr, 'Nothing deleted.');
    ctx.fail(EXIT.failed);
    return;
  }
  await target.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  if (options.json === true) writeJson(ctx.io.stdout, { purged: count, queueUrl });
  else writeLine(ctx.io.stdout, `Purged about ${count} dead letter(s) from ${queueUrl}.`);
}
