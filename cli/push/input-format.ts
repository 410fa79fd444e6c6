import { extname } from 'node:path';
import { UsageError } from '../exit-codes.ts';

export const INPUT_FORMATS = ['csv', 'ndjson', 'json'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

const BY_EXTENSION: Readonly<Record<string, InputFormat>> = {
  '.csv': 'csv',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
};

/** The format `--format` names, else the file's extension says. */
export function inputFormat(file: string, given: InputFormat | undefined): InputFormat {
  if (given !== undefined) return given;
  const format = BY_EXTENSION[extname(file).toLowerCase()];
  if (format === undefined)
    throw new UsageError(
      `${file}: the format cannot be told from the extension (.csv, .ndjson, .jsonl or .json); pass --format csv|ndjson|json`,
    );
  return format;
}

/** How a reader names a position in a rejected-lines record: CSV and NDJSON by line, JSON by entry. */
export function positionKey(format: InputFormat): 'line' | 'entry' {
  return format === 'json' ? 'entry' : 'line';
}
