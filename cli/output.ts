import Table from 'cli-table3';
import type { OutputStream } from './io.ts';

export type Cell = string | number;

/**
 * A plain table: no colours (cli-table3 paints headers red by default), so it reads the same in a terminal,
 * a file or a pipe.
 */
export function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const table = new Table({ head: [...head], style: { head: [], border: [], compact: true } });
  for (const row of rows) table.push(row.map(String));
  return table.toString();
}

export function writeLine(stream: OutputStream, text = ''): void {
  stream.write(`${text}\n`);
}

/** `--json`: one JSON document on stdout, for scripts. */
export function writeJson(stream: OutputStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}
