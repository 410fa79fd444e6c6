/** What an input reader hands the push: entries by position, and what could not even be read as an entry. */

/** Where an item is in its file: a line (CSV, NDJSON) or an entry of `UserAttrs` (JSON), counted from 1. */
export interface Positioned {
  readonly position: number;
}

export interface EntryItem extends Positioned {
  readonly kind: 'entry';
  /** The user as read, before any rule: `{"To_Account":…,"Attrs":{…}}`. */
  readonly entry: unknown;
}

export interface UnreadableItem extends Positioned {
  readonly kind: 'unreadable';
  readonly account: string | null;
  readonly rule: string;
  readonly reason: string;
}

export type InputItem = EntryItem | UnreadableItem;

/** Items read together, and how far into the file reading has come (for progress). */
export interface ItemBatch {
  readonly items: readonly InputItem[];
  readonly bytesRead: number;
}

export interface ReadOptions {
  /** Positions up to this one were sent before (`--resume`): not produced again. */
  readonly skipThrough: number;
}
