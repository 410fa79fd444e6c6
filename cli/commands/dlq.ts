import type { Command } from 'commander';
import { numberIn, withCommonOptions } from '../common-options.ts';
import { DEFAULT_IM_RATE, type CliContext } from '../context.ts';
import type { PurgeOptions, ReadOptions, ReplayOptions } from '../dlq/options.ts';
import { UsageError } from '../exit-codes.ts';

const DEFAULT_MAX = 10_000;

export const REPLAY_WARNING =
  'warning: a dead letter is older than anything applied after it: replaying it can overwrite newer values. ' +
  'With --verify, attributes IM holds a value for are skipped (IM keeps no history, so a value there may be newer), and so are ' +
  'attributes IM holds none for (a newer null may have removed them) unless --include-absent.';

function withReadOptions(command: Command): Command {
  return withCommonOptions(command)
    .option('--rule <rule>', 'only letters of this rule (e.g. attr-name-unregistered, im-error-70107)')
    .option('--max <letters>', 'read at most this many letters', numberIn(1, 1_000_000, true), DEFAULT_MAX);
}

/** The actions, loaded when one runs. */
const actions = () => import('../dlq/dlq-actions.ts');

/** `tim-attr dlq ls|show|replay|purge`. */
export function registerDlq(program: Command, ctx: CliContext): void {
  const dlq = program
    .command('dlq')
    .description("the gateway's dead letters: count, show, replay, purge")
    .addHelpText(
      'after',
      '\nExamples:\n  tim-attr dlq ls\n  tim-attr dlq show --rule attr-name-unregistered\n  tim-attr dlq replay --rule im-error-70107 --verify\n  tim-attr dlq purge --yes\n',
    );

  withReadOptions(dlq.command('ls'))
    .description('count dead letters by rule and ErrorCode (letters stay in the queue)')
    .addHelpText('after', '\nExample:\n  tim-attr dlq ls --json\n')
    .action(async (options: ReadOptions) => (await actions()).listLetters(ctx, options));

  withReadOptions(dlq.command('show'))
    .description('print dead letters: why, when, and their users (letters stay in the queue)')
    .addHelpText('after', '\nExample:\n  tim-attr dlq show --rule im-error-70107 --max 20\n')
    .action(async (options: ReadOptions) => (await actions()).showLetters(ctx, options));

  withReadOptions(dlq.command('replay'))
    .description(
      'send dead letters back to the intake queue, oldest first, as one message group; each letter is deleted once sent',
    )
    .option(
      '--verify',
      'read the users in IM first (im_get_attr); skip and list what is already applied, changed since, or absent (maybe removed since)',
    )
    .option('--include-absent', 'with --verify, also replay attributes IM holds no value for')
    .option('--rate <calls>', 'im_get_attr calls per second under --verify', numberIn(1, 100), DEFAULT_IM_RATE)
    .addHelpText(
      'after',
      `\n${REPLAY_WARNING}\n\nExamples:\n  tim-attr dlq replay --rule attr-name-unregistered\n  tim-attr dlq replay --verify --json\n`,
    )
    .action(async (options: ReplayOptions) => {
      if (options.includeAbsent === true && options.verify !== true)
        throw new UsageError('--include-absent goes with --verify');
      ctx.io.stderr.write(`${REPLAY_WARNING}\n`);
      await (await actions()).replayLetters(ctx, options);
    });

  withCommonOptions(dlq.command('purge'))
    .description('delete every dead letter (asks first)')
    .option('-y, --yes', 'purge without asking')
    .addHelpText('after', '\nExample:\n  tim-attr dlq purge --yes\n')
    .action(async (options: PurgeOptions) => (await actions()).purgeLetters(ctx, options));
}
