import { readCsv } from './csv-input.ts';
import type { InputFormat } from './input-format.ts';
import type { ItemBatch } from './input-item.ts';
import { readJsonBody } from './json-input.ts';
import { readNdjson } from './ndjson-input.ts';

/** The file's items in order, by format, from the position after `skipThrough`. */
export function readInput(
  file: string,
  format: InputFormat,
  skipThrough: number,
  allowedNames: ReadonlySet<string> | undefined,
): AsyncGenerator<ItemBatch> {
  switch (format) {
    case 'csv':
      return readCsv(file, { skipThrough, allowedNames });
    case 'ndjson':
      return readNdjson(file, { skipThrough });
    case 'json':
      return readJsonBody(file, { skipThrough });
  }
}
