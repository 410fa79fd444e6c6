import { readFile, stat } from 'node:fs/promises';
import { RequestShapeError } from '../../lib/core/errors.ts';
import { parseUserAttrsEnvelope } from '../../lib/core/rules/schemas.ts';
import { UsageError } from '../exit-codes.ts';
import type { InputItem, ItemBatch, ReadOptions } from './input-item.ts';

/**
 * A JSON file in IM's body shape is read whole (JSON has no record boundaries to stream on): up to this size.
 * Larger backfills belong in NDJSON or CSV, which stream.
 */
export const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024;
const BATCH_ENTRIES = 1000;

/** JSON in IM's body shape, `{"UserAttrs":[…]}`; positions are entries of `UserAttrs`, from 1. */
export async function* readJsonBody(file: string, options: ReadOptions): AsyncGenerator<ItemBatch> {
  const { size } = await stat(file);
  if (size > MAX_JSON_FILE_BYTES) {
    throw new UsageError(
      `${file} is ${size} bytes; a JSON file is read whole, so at most ${MAX_JSON_FILE_BYTES} bytes: use NDJSON or CSV for more [json-file-max-64-mib]`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new UsageError(`${file} is not JSON [body-must-be-json]`);
  }
  let entries: readonly unknown[];
  try {
    entries = parseUserAttrsEnvelope(body).UserAttrs;
  } catch (error: unknown) {
    if (error instanceof RequestShapeError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  for (let start = options.skipThrough; start < entries.length; start += BATCH_ENTRIES) {
    const items: InputItem[] = entries
      .slice(start, start + BATCH_ENTRIES)
      .map((entry, i) => ({ kind: 'entry', position: start + i + 1, entry }));
    yield {
      items,
      bytesRead: Math.round((size * Math.min(entries.length, start + BATCH_ENTRIES)) / Math.max(1, entries.length)),
    };
  }
}
