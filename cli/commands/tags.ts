/**
 * `tim-attr tags add|remove|clear`: users' tags changed through the gateway, never by a direct IM call. The
 * operations go to the intake queue (as any producer's), so the worker moves them into the users' lanes behind
 * their earlier updates and applies them in order, paced under the fleet's budget; `tim-attr get --tags` reads
 * the result back.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { isValidTag } from '../../lib/core/rules/tag-ops.ts';
import type { UserTagOps } from '../../lib/core/rules/types.ts';
import { userTagsBody } from '../../lib/queue/message-format.ts';
import { readAccounts } from '../accounts-input.ts';
import { withCommonOptions } from '../common-options.ts';
import type { CliContext, CommonOptions } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { writeJson, writeLine } from '../output.ts';
import type { PackedMessage } from '../push/message-packer.ts';

interface TagsOptions extends CommonOptions {
  readonly user?: readonly string[];
  readonly file?: string;
}

/** Bytes of one intake message's body, well under SQS's 1 MiB (a user's entry is at most about 600 bytes here). */
const MESSAGE_BYTES = 200_000;

type Operation = 'add' | 'remove' | 'clear';

/** The checked tags of the command line, each once. */
function checkedTags(tags: readonly string[]): string[] {
  tags.forEach((tag, i) => {
    if (!isValidTag(tag))
      throw new UsageError(
        `tag ${i + 1} must be a non-empty string of at most 50 bytes in UTF-8 (it is ${Buffer.byteLength(tag, 'utf8')}) [tag-max-50-bytes]`,
      );
  });
  return [...new Set(tags)];
}

function entryOf(operation: Operation, account: string, tags: readonly string[]): UserTagOps {
  if (operation === 'clear') return { To_Account: account, RemoveAll: true };
  return operation === 'add' ? { To_Account: account, Add: tags } : { To_Account: account, Remove: tags };
}

/** The entries packed into intake messages of at most `MESSAGE_BYTES`, in order. */
function packEntries(entries: readonly UserTagOps[]): PackedMessage[] {
  const messages: PackedMessage[] = [];
  let current: UserTagOps[] = [];
  let bytes = 0;
  let first = 0;
  const close = (): void => {
    const positions = current.map((_, i) => first + i);
    messages.push({
      firstPosition: first,
      lastPosition: first + current.length - 1,
      positions,
      body: userTagsBody(current),
    });
    first += current.length;
    current = [];
    bytes = 0;
  };
  for (const entry of entries) {
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (current.length > 0 && bytes + size > MESSAGE_BYTES) close();
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) close();
  return messages;
}

async function run(
  ctx: CliContext,
  operation: Operation,
  tags: readonly string[],
  options: TagsOptions,
): Promise<void> {
  const checked = operation === 'clear' ? [] : checkedTags(tags);
  if (operation !== 'clear' && checked.length === 0) throw new UsageError(`name at least one tag to ${operation}`);
  const accounts = await readAccounts(options.user ?? [], options.file);
  const target = await ctx.target(options);
  const queueUrl = await target.queueUrl('intake');
  const { IntakeDestination } = await import('../push/intake-destination.ts');
  const destination = new IntakeDestination({
    sqs: target.sqs,
    queueUrl,
    messageGroupId: 'tim-attr-tags',
    runId: randomUUID(),
  });
  const messages = packEntries(accounts.map((account) => entryOf(operation, account, checked)));
  for (let i = 0; i < messages.length; i += destination.batchSize)
    await destination.send(messages.slice(i, i + destination.batchSize));
  if (options.json === true) {
    writeJson(ctx.io.stdout, { operation, users: accounts.length, tags: checked, messages: messages.length });
    return;
  }
  const what = operation === 'clear' ? 'remove every tag of' : `${operation} ${checked.join(', ')} for`;
  writeLine(
    ctx.io.stdout,
    `Queued: ${what} ${accounts.length} user(s), in ${messages.length} message(s) to ${destination.label}. ` +
      "They are applied in each user's lane order; read them back with `tim-attr get --tags`.",
  );
}

/** `tim-attr tags add|remove|clear`. */
export function registerTags(program: Command, ctx: CliContext): void {
  const tags = program
    .command('tags')
    .description("add, remove or clear users' tags through the gateway (its intake queue and lanes)");
  const users = (command: Command): Command =>
    withCommonOptions(command)
      .option('-u, --user <accounts...>', 'To_Account values')
      .option('-f, --file <file>', 'read accounts from a file, one a line');
  users(tags.command('add'))
    .description('add tags to users (more than 10 are split into several IM calls)')
    .argument('<tags...>', 'tags, each 1 to 50 bytes in UTF-8')
    .addHelpText('after', '\nExample:\n  tim-attr tags add vip beta-tester --user user_0001 user_0002\n')
    .action((list: string[], options: TagsOptions) => run(ctx, 'add', list, options));
  users(tags.command('remove'))
    .description('remove tags from users')
    .argument('<tags...>', 'tags, each 1 to 50 bytes in UTF-8')
    .addHelpText('after', '\nExample:\n  tim-attr tags remove trial --file accounts.txt\n')
    .action((list: string[], options: TagsOptions) => run(ctx, 'remove', list, options));
  users(tags.command('clear'))
    .description('remove every tag of users (im_remove_all_tags)')
    .addHelpText('after', '\nExample:\n  tim-attr tags clear --user user_0001\n')
    .action((options: TagsOptions) => run(ctx, 'clear', [], options));
}
