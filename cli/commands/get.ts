import type { Command } from 'commander';
import type { UserAttr } from '../../lib/core/rules/types.ts';
import { chunk } from '../../lib/core/rules/chunk.ts';
import { MAX_USERS_PER_CALL } from '../../lib/core/rules/constants.ts';
import { readAccounts } from '../accounts-input.ts';
import { numberIn, withCommonOptions } from '../common-options.ts';
import { DEFAULT_IM_RATE, type CliContext, type CommonOptions } from '../context.ts';
import { describeError } from '../describe-error.ts';
import { EXIT } from '../exit-codes.ts';
import { renderTable, writeJson, writeLine } from '../output.ts';

interface GetOptions extends CommonOptions {
  readonly file?: string;
  readonly rate: number;
  readonly tags?: boolean;
}

/** A user as `get` shows it: the attributes, and with `--tags` the tags. */
type ShownUser = UserAttr & { readonly Tags?: readonly string[] };

/** One column per attribute name seen, in the order first seen; a user without the attribute shows nothing. */
function userTable(users: readonly ShownUser[], tags: boolean): string {
  const names = [...new Set(users.flatMap((u) => Object.keys(u.Attrs)))];
  return renderTable(
    ['To_Account', ...names, ...(tags ? ['tags'] : [])],
    users.map((u) => [
      u.To_Account,
      ...names.map((n) => u.Attrs[n] ?? ''),
      ...(tags ? [(u.Tags ?? []).join(', ')] : []),
    ]),
  );
}

/** `tim-attr get`: users' attributes, 100 accounts a call, paced. */
export function registerGet(program: Command, ctx: CliContext): void {
  withCommonOptions(program.command('get'))
    .description("read users' attributes (im_get_attr, 100 accounts a call, paced), and with --tags their tags")
    .argument('[accounts...]', 'To_Account values')
    .option('-f, --file <file>', 'read accounts from a file, one a line')
    .option('--tags', "also read the users' tags (im_get_tag, one more call per 100 accounts)")
    .option(
      '--rate <calls>',
      'im_get_attr calls per second (IM allows 100 per app, shared with the gateway)',
      numberIn(1, 100),
      DEFAULT_IM_RATE,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  tim-attr get user_0001 user_0002\n  tim-attr get user_0001 --tags\n  tim-attr get --file accounts.txt --json > attrs.json\n',
    )
    .action(async (args: string[], options: GetOptions) => {
      const accounts = await readAccounts(args, options.file);
      const im = await ctx.im(options, options.rate);
      const calls = chunk(accounts, MAX_USERS_PER_CALL);
      const failures: { accounts: number; error: string }[] = [];
      const answers = await Promise.all(
        calls.map(async (part): Promise<ShownUser[]> => {
          try {
            const attrs = await im.getAttr(part);
            if (options.tags !== true) return attrs;
            const tags = new Map((await im.getTags(part)).map((u) => [u.To_Account, u.Tags]));
            return attrs.map((u) => ({ ...u, Tags: tags.get(u.To_Account) ?? [] }));
          } catch (error: unknown) {
            failures.push({ accounts: part.length, error: describeError(error) });
            return [];
          }
        }),
      );
      const users = answers.flat();
      if (failures.length > 0) ctx.fail(EXIT.failed);
      if (options.json === true) {
        writeJson(ctx.io.stdout, { users, failed: failures });
        return;
      }
      if (users.length > 0) writeLine(ctx.io.stdout, userTable(users, options.tags === true));
      for (const f of failures) writeLine(ctx.io.stderr, `${f.accounts} account(s) could not be read: ${f.error}`);
    });
}
