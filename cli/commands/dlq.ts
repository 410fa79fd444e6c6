import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { checkUser } from '../../lib/rules/check-user.ts';
import { numberIn, withCommonOptions } from '../common-options.ts';
import { confirm } from '../confirm.ts';
import { DEFAULT_IM_RATE, type CliContext, type CommonOptions } from '../context.ts';
import { groupDeadLetters, queueDepth, receiveDeadLetters, releaseDeadLetters, type DeadLetter } from '../dlq/dead-letters.ts';
import { replayDeadLetters } from '../dlq/replay.ts';
import { EXIT } from '../exit-codes.ts';
import { renderTable, writeJson, writeLine } from '../output.ts';

export interface ReadOptions extends CommonOptions {
  readonly rule?: string;
  readonly max: number;
}
export interface ReplayOptions extends ReadOptions {
  readonly verify?: boolean;
  readonly rate: number;
}
interface PurgeOptions extends CommonOptions {
  readonly yes?: boolean;
}

/** Letters stay hidden this long while ls/show read them (then they are made visible again at once). */
const READ_VISIBILITY_SECONDS = 60;
/** Letters stay hidden this long while a replay verifies and sends them. */
const REPLAY_VISIBILITY_SECONDS = 600;
const DEFAULT_MAX = 10_000;

const REPLAY_WARNING =
  'warning: a dead letter is older than anything applied after it: replaying it can overwrite newer values. ' +
  'With --verify, attributes that IM holds a value for are skipped (IM keeps no history, so a value there may be newer).';

function withReadOptions(command: Command): Command {
  return withCommonOptions(command)
    .option('--rule <rule>', 'only letters of this rule (e.g. attr-name-unregistered, im-error-70107)')
    .option('--max <letters>', 'read at most this many letters', numberIn(1, 1_000_000, true), DEFAULT_MAX);
}

const iso = (date: Date | undefined): string => date?.toISOString() ?? '—';

/** Reads letters (hidden for `visibilitySeconds`), keeps those of `--rule` and makes the others visible again. */
export async function readLetters(ctx: CliContext, options: ReadOptions, visibilitySeconds: number): Promise<{ queueUrl: string; letters: DeadLetter[] }> {
  const target = await ctx.target(options);
  const queueUrl = await target.queueUrl('deadLetter');
  const all = await receiveDeadLetters(target.sqs, queueUrl, { visibilitySeconds, max: options.max });
  if (options.rule === undefined) return { queueUrl, letters: all };
  await releaseDeadLetters(target.sqs, queueUrl, all.filter((l) => l.rule !== options.rule));
  return { queueUrl, letters: all.filter((l) => l.rule === options.rule) };
}

/** Reads, lets `use` look, and always makes the letters visible again. */
async function peekLetters(ctx: CliContext, options: ReadOptions, use: (letters: readonly DeadLetter[]) => void): Promise<void> {
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
      ['ErrorCode', letter.errorCode === undefined ? '—' : `${letter.errorCode}${letter.errorInfo === undefined ? '' : ` ${letter.errorInfo}`}`],
      ['reason', letter.reason.split(' | ').join('\n')],
      ['requestId', letter.requestId ?? '—'],
      ['users', letter.users === undefined ? 'the body is not {"UserAttrs":[…]}: kept as received' : String(letter.users.length)],
    ],
  );
  const users = (letter.users ?? []).map((u) => {
    const c = checkUser(u);
    return c.ok ? [c.user.To_Account, JSON.stringify(c.user.Attrs)] : ['(unreadable)', JSON.stringify(u)];
  });
  return users.length === 0 ? head : `${head}\n${renderTable(['To_Account', 'Attrs (null: remove)'], users)}`;
}

export function registerDlq(program: Command, ctx: CliContext): void {
  const dlq = program.command('dlq').description("the gateway's dead letters: count, show, replay, purge").addHelpText('after', '\nExamples:\n  tim-attr dlq ls\n  tim-attr dlq show --rule attr-name-unregistered\n  tim-attr dlq replay --rule im-error-70107 --verify\n  tim-attr dlq purge --yes\n');

  withReadOptions(dlq.command('ls'))
    .description('count dead letters by rule and ErrorCode (letters stay in the queue)')
    .addHelpText('after', '\nExample:\n  tim-attr dlq ls --json\n')
    .action(async (options: ReadOptions) => {
      await peekLetters(ctx, options, (letters) => {
        const groups = groupDeadLetters(letters);
        if (options.json === true) {
          writeJson(ctx.io.stdout, { letters: letters.length, users: letters.reduce((n, l) => n + (l.users?.length ?? 0), 0), groups: groups.map((g) => ({ ...g, oldest: g.oldest?.toISOString() })) });
          return;
        }
        if (groups.length === 0) {
          writeLine(ctx.io.stdout, 'No dead letters.');
          return;
        }
        writeLine(ctx.io.stdout, renderTable(['rule', 'ErrorCode', 'letters', 'users', 'oldest'], groups.map((g) => [g.rule, g.errorCode ?? '—', g.letters, g.users, iso(g.oldest)])));
      });
    });

  withReadOptions(dlq.command('show'))
    .description('print dead letters: why, when, and their users (letters stay in the queue)')
    .addHelpText('after', '\nExample:\n  tim-attr dlq show --rule im-error-70107 --max 20\n')
    .action(async (options: ReadOptions) => {
      await peekLetters(ctx, options, (letters) => {
        if (options.json === true) {
          writeJson(ctx.io.stdout, { letters: letters.map(({ receiptHandle: _handle, body: _body, sentAt, ...rest }) => ({ ...rest, sentAt: sentAt?.toISOString() })) });
          return;
        }
        if (letters.length === 0) writeLine(ctx.io.stdout, 'No dead letters.');
        letters.forEach((letter, i) => writeLine(ctx.io.stdout, showLetter(letter, i, letters.length)));
      });
    });

  withReadOptions(dlq.command('replay'))
    .description('send dead letters back to the intake queue, oldest first, as one message group; each letter is deleted once sent')
    .option('--verify', 'replay only attributes IM holds no value for (im_get_attr); skip and list the rest')
    .option('--rate <calls>', 'im_get_attr calls per second under --verify', numberIn(1, 100), DEFAULT_IM_RATE)
    .addHelpText('after', `\n${REPLAY_WARNING}\n\nExamples:\n  tim-attr dlq replay --rule attr-name-unregistered\n  tim-attr dlq replay --verify --json\n`)
    .action(async (options: ReplayOptions) => {
      writeLine(ctx.io.stderr, REPLAY_WARNING);
      const { letters, queueUrl } = await readLetters(ctx, options, REPLAY_VISIBILITY_SECONDS);
      await replayDeadLetters(ctx, options, queueUrl, letters);
    });

  withCommonOptions(dlq.command('purge'))
    .description('delete every dead letter (asks first)')
    .option('-y, --yes', 'purge without asking')
    .addHelpText('after', '\nExample:\n  tim-attr dlq purge --yes\n')
    .action(async (options: PurgeOptions) => {
      const target = await ctx.target(options);
      const queueUrl = await target.queueUrl('deadLetter');
      const depth = await queueDepth(target.sqs, queueUrl);
      const count = depth.visible + depth.inFlight + depth.delayed;
      if (options.yes !== true && !(await confirm(ctx.io, `Delete all ${count} dead letter(s) of ${queueUrl}? They cannot be replayed afterwards.`, 'purging the dead letters needs confirmation'))) {
        writeLine(ctx.io.stderr, 'Nothing deleted.');
        ctx.fail(EXIT.failed);
        return;
      }
      await target.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
      if (options.json === true) writeJson(ctx.io.stdout, { purged: count, queueUrl });
      else writeLine(ctx.io.stdout, `Purged about ${count} dead letter(s) from ${queueUrl}.`);
    });
}
