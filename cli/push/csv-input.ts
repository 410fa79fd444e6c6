import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { MAX_ATTR_NAME_BYTES } from '../../lib/core/rules/constants.ts';
import { setOwn } from '../../lib/core/rules/own-record.ts';
import type { AttrValue } from '../../lib/core/rules/types.ts';
import { UsageError } from '../exit-codes.ts';
import type { InputItem, ItemBatch, ReadOptions } from './input-item.ts';

/** The cell that removes an attribute (as MySQL and PostgreSQL exports write NULL). */
export const CSV_NULL = '\\N';
const ACCOUNT_COLUMN = 'To_Account';
/**
 * The tags column: `;`-separated operations, `+vip` adds, `-trial` removes, `-*` removes every tag first (the
 * tags route's order: remove-all, then remove, then add). An empty cell changes no tag.
 */
export const CSV_TAGS_COLUMN = 'Tags';
/** Records handed on together, so the per-record cost is an object and not a promise. */
const BATCH_RECORDS = 1000;

export interface CsvReadOptions extends ReadOptions {
  /** The app's registered names, when known: a header column outside them is refused before any row is read. */
  readonly allowedNames: ReadonlySet<string> | undefined;
}

interface CsvRow {
  readonly record: string[];
  readonly info: { readonly lines: number; readonly bytes: number };
}

/** The header `To_Account,<name>,…`: refused as a whole (exit 2) when a column breaks a rule, naming it. */
function readHeader(file: string, header: readonly string[], allowedNames: ReadonlySet<string> | undefined): string[] {
  if (header[0] !== ACCOUNT_COLUMN)
    throw new UsageError(
      `${file}: the header's first column must be ${ACCOUNT_COLUMN} (got "${header[0] ?? ''}") [csv-header-to-account]`,
    );
  const names = header.slice(1);
  if (names.filter((name) => name === CSV_TAGS_COLUMN).length > 1)
    throw new UsageError(`${file}: the header repeats the ${CSV_TAGS_COLUMN} column [csv-header-name-repeated]`);
  if (names.length === 0)
    throw new UsageError(`${file}: the header names no attribute after ${ACCOUNT_COLUMN} [csv-header-attrs-required]`);
  const seen = new Set<string>();
  names.forEach((name, i) => {
    const column = `column ${i + 2} of the header`;
    if (name === '') throw new UsageError(`${file}: ${column} is empty [attr-name-required]`);
    if (Buffer.byteLength(name, 'utf8') > MAX_ATTR_NAME_BYTES)
      throw new UsageError(
        `${file}: ${column} must be a name of at most ${MAX_ATTR_NAME_BYTES} bytes in UTF-8 [attr-name-max-50-bytes]`,
      );
    if (seen.has(name))
      throw new UsageError(`${file}: ${column} repeats the name "${name}" [csv-header-name-repeated]`);
    if (name === CSV_TAGS_COLUMN) return;
    if (allowedNames !== undefined && !allowedNames.has(name)) {
      throw new UsageError(
        `${file}: ${column}, "${name}", is not an attribute name registered for the app (see \`tim-attr names\`) [attr-name-unregistered]`,
      );
    }
    seen.add(name);
  });
  return names;
}

/** A row as IM's user entry: an empty cell leaves the attribute alone, `\N` removes it (null). */
function toItem(names: readonly string[], row: CsvRow): InputItem {
  const { record } = row;
  const newlines = record.reduce((n, cell) => n + (cell.includes('\n') ? cell.split('\n').length - 1 : 0), 0);
  const position = row.info.lines - newlines;
  if (record.length !== names.length + 1) {
    return {
      kind: 'unreadable',
      position,
      account: record[0] ?? null,
      rule: 'csv-fields-must-match-header',
      reason: `line ${position} has ${record.length} fields; the header has ${names.length + 1} [csv-fields-must-match-header].`,
    };
  }
  const attrs: Record<string, AttrValue> = {};
  let tags: Record<string, unknown> | undefined;
  names.forEach((name, i) => {
    const cell = record[i + 1] ?? '';
    if (name === CSV_TAGS_COLUMN) tags = cell.trim() === '' ? undefined : tagOpsOfCell(cell);
    else if (cell === CSV_NULL) setOwn(attrs, name, null);
    else if (cell !== '') setOwn(attrs, name, cell);
  });
  // A row that changes tags only carries no Attrs (an entry's empty Attrs would be refused).
  const withAttrs = tags === undefined || Object.keys(attrs).length > 0 ? { Attrs: attrs } : {};
  return { kind: 'entry', position, entry: { To_Account: record[0], ...withAttrs, ...tags } };
}

/** A tags cell (`+vip;-trial;-*`) as the tags route's fields; the tag rules judge them later. */
function tagOpsOfCell(cell: string): Record<string, unknown> {
  const add: string[] = [];
  const remove: string[] = [];
  let removeAll = false;
  for (const part of cell.split(';').map((p) => p.trim())) {
    if (part === '-*') removeAll = true;
    else if (part.startsWith('-')) remove.push(part.slice(1));
    // A tag without a sign is an add; an empty part (`a;;b`) is refused by the tag rules as an empty tag.
    else add.push(part.startsWith('+') ? part.slice(1) : part);
  }
  return {
    ...(removeAll ? { RemoveAll: true } : {}),
    ...(remove.length > 0 ? { Remove: remove } : {}),
    ...(add.length > 0 ? { Add: add } : {}),
  };
}

/**
 * CSV with the header `To_Account,<name>,…`, streamed (csv-parse): quoted fields may hold commas and newlines.
 * A row's position is the line it starts on.
 */
export async function* readCsv(file: string, options: CsvReadOptions): AsyncGenerator<ItemBatch> {
  const parser = createReadStream(file).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  let names: string[] | undefined;
  let items: InputItem[] = [];
  let bytesRead = 0;
  for await (const value of parser) {
    const row = value as CsvRow;
    bytesRead = row.info.bytes;
    if (names === undefined) {
      names = readHeader(file, row.record, options.allowedNames);
      continue;
    }
    const item = toItem(names, row);
    if (item.position > options.skipThrough) items.push(item);
    if (items.length >= BATCH_RECORDS) {
      yield { items, bytesRead };
      items = [];
    }
  }
  if (names === undefined)
    throw new UsageError(`${file} is empty: a CSV needs the header To_Account,<name>,… [csv-header-to-account]`);
  yield { items, bytesRead };
}
