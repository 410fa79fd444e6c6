import type { Command } from 'commander';
import { withCommonOptions } from '../common-options.ts';
import type { CliContext, CommonOptions } from '../context.ts';

export function registerStatus(program: Command, ctx: CliContext): void {
  withCommonOptions(program.command('status'))
    .description(
      "queue depths and oldest message ages, dead letters by rule, and whether the gateway's tables and IM answer",
    )
    .addHelpText(
      'after',
      '\nThe age of the oldest message comes from CloudWatch (a deployed stage); the local stack has none, except for\nthe dead letters, whose age the CLI reads from the letters themselves.\n\nExamples:\n  tim-attr status\n  tim-attr status --stage prod --json\n',
    )
    .action(async (options: CommonOptions) => {
      // Loaded when run: the SQS and DynamoDB clients are not needed by the other commands.
      const { runStatus } = await import('../status/status-report.ts');
      await runStatus(ctx, options);
    });
}
