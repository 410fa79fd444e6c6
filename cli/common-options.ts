import { InvalidArgumentError, Option, type Command } from 'commander';

/** Adds the options every command takes: `--json`, `--stage`, `--region`. */
export function withCommonOptions(command: Command): Command {
  return command
    .option('--json', 'print one JSON document for scripts instead of tables')
    .addOption(
      new Option(
        '--stage <stage>',
        "a deployed stage: read its stack's outputs (default: the local stack of npm start)",
      ),
    )
    .addOption(new Option('--region <region>', 'AWS region of the stage (default: AWS_REGION, else ap-southeast-1)'));
}

/** Parses a number option such as `--rate 20`; commander reports a refusal naming the option (exit 2). */
export function numberIn(min: number, max: number, integer = false): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (
      text.trim() === '' ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      throw new InvalidArgumentError(`must be a ${integer ? 'whole number' : 'number'} from ${min} to ${max}.`);
    }
    return value;
  };
}
