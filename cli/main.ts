/**
 * `tim-attr`: the operator's command line for the gateway. `runCli` takes its streams, environment and Ctrl-C
 * from `io`, so it runs the same in a terminal, a script or a test, and returns the exit code.
 */
import { Command, CommanderError } from 'commander';
import { registerDlq } from './commands/dlq.ts';
import { registerGet } from './commands/get.ts';
import { registerNames } from './commands/names.ts';
import { registerPush } from './commands/push.ts';
import { registerStatus } from './commands/status.ts';
import { registerTags } from './commands/tags.ts';
import { CliContext } from './context.ts';
import { EXIT } from './exit-codes.ts';
import { describeError } from './describe-error.ts';
import { UsageError } from './exit-codes.ts';
import type { CliIo } from './io.ts';
import { writeLine } from './output.ts';

const EXIT_CODES_HELP = `
Exit codes: 0 done; 1 failed, or partly failed (some users, letters or calls); 2 usage error (nothing
changed); 130 interrupted by Ctrl-C after the work in flight was settled.
With no --stage the commands work on the local stack of \`npm start\` (same PORT, SQS_PORT, DYNAMODB_PORT,
EMULATOR_PORT, IM_BASE_URL, TIM_*, WEBHOOK_SECRET); see docs/operating.md.`;

function buildProgram(ctx: CliContext): Command {
  const program = new Command('tim-attr')
    .description(
      'Operate tim-attr-gateway: attribute names, user attributes and tags, backfills, dead letters, status.',
    )
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    // Set before the subcommands are added, so they inherit both.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
    });
  registerNames(program, ctx);
  registerGet(program, ctx);
  registerTags(program, ctx);
  registerPush(program, ctx);
  registerDlq(program, ctx);
  registerStatus(program, ctx);
  return program;
}

/** Runs one command line (without `node` and the script) and returns its exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = new CliContext(io);
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      // Help and --version end with code 0; every other commander refusal is a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      writeLine(io.stderr, `tim-attr: ${error.message}`);
      return EXIT.usage;
    }
    writeLine(io.stderr, `tim-attr: ${describeError(error)}`);
    return EXIT.failed;
  } finally {
    ctx.close();
  }
}
