import type { InputItem, ItemBatch, ReadOptions } from './input-item.ts';
import { readLines } from './line-reader.ts';

/**
 * NDJSON: one user a line, `{"To_Account":"u1","Attrs":{"city":"Paris","tier":null}}`. Blank lines are skipped;
 * a line that is not JSON is an unreadable item (`line-must-be-json`).
 */
export async function* readNdjson(file: string, options: ReadOptions): AsyncGenerator<ItemBatch> {
  for await (const batch of readLines(file)) {
    const items: InputItem[] = [];
    for (let i = 0; i < batch.lines.length; i++) {
      const position = batch.firstLine + i;
      const text = batch.lines[i] ?? '';
      if (position <= options.skipThrough || text.trim() === '') continue;
      try {
        items.push({ kind: 'entry', position, entry: JSON.parse(text) });
      } catch {
        items.push({
          kind: 'unreadable',
          position,
          account: null,
          rule: 'line-must-be-json',
          reason: `line ${position} is not a JSON value [line-must-be-json].`,
        });
      }
    }
    yield { items, bytesRead: batch.bytesRead };
  }
}
