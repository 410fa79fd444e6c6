import { createInterface } from 'node:readline/promises';
import { UsageError } from './exit-codes.ts';
import type { CliIo } from './io.ts';

/**
 * Asks a yes/no question on stdin; only "y" or "yes" agrees. Without a terminal there is nobody to ask:
 * the caller must have passed `--yes`, so this refuses with a usage error naming the flag.
 */
export async function confirm(io: CliIo, question: string, refusal: string): Promise<boolean> {
  if (io.stdin.isTTY !== true)
    throw new UsageError(`${refusal}: stdin is not a terminal, so nobody can confirm; pass --yes to go ahead`);
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
