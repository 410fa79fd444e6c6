import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { MAX_ACCOUNT_BYTES } from '../lib/core/rules/constants.ts';
import { fitsInUtf8Bytes } from '../lib/core/rules/utf8.ts';
import { UsageError } from './exit-codes.ts';

function checkAccount(account: string, where: string): string {
  if (!fitsInUtf8Bytes(account, MAX_ACCOUNT_BYTES)) {
    throw new UsageError(
      `${where} is ${Buffer.byteLength(account, 'utf8')} bytes; an account is at most ${MAX_ACCOUNT_BYTES} bytes in UTF-8 [to-account-max-32-bytes]`,
    );
  }
  return account;
}

/** The accounts of the command line and of `--file` (one a line; blank lines skipped), each checked, first occurrence kept. */
export async function readAccounts(args: readonly string[], file: string | undefined): Promise<string[]> {
  const accounts = new Set<string>();
  args.forEach((account, i) => {
    if (account === '') throw new UsageError(`account ${i + 1} of the command line is empty [to-account-required]`);
    accounts.add(checkAccount(account, `account ${i + 1} of the command line`));
  });
  if (file !== undefined) {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line++;
      const account = text.trim();
      if (account !== '') accounts.add(checkAccount(account, `line ${line} of ${file}`));
    }
  }
  if (accounts.size === 0)
    throw new UsageError('name at least one account, or --file with one account a line [to-account-required]');
  return [...accounts];
}
