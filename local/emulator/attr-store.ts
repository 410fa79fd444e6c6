import { EmulatorOptionsError } from './errors.ts';

/** IM has 10 attribute slots, "0".."9" (doc 269/45935; docs/im-api.md). */
export const ATTR_SLOT_COUNT = 10;
/** Attribute names and values are limited to 50 UTF-8 bytes. */
export const MAX_ATTR_BYTES = 50;

export type StoredAttrs = Record<string, string>;

/**
 * The emulator's state: attribute names per slot and every user's attributes.
 * Attributes are kept by name, as the API always refers to them by name outside im_set_attr_name
 * (renaming a slot therefore does not carry old values over: real IM's behaviour there is undocumented).
 */
export class AttrStore {
  readonly #slots: (string | undefined)[] = new Array<string | undefined>(ATTR_SLOT_COUNT).fill(undefined);
  #registered = new Set<string>();
  /** Null-prototype records, so an attribute called `__proto__` is stored like any other. */
  readonly users = new Map<string, StoredAttrs>();
  /** Every user's tags (`im_add_tag`, doc 269/45941), in the order they were added. */
  readonly tags = new Map<string, Set<string>>();

  constructor(initialNames: readonly string[] = []) {
    if (initialNames.length > ATTR_SLOT_COUNT) {
      throw new EmulatorOptionsError('attrNames', initialNames, `at most ${ATTR_SLOT_COUNT} names`);
    }
    initialNames.forEach((name, slot) => {
      if (name.length === 0 || Buffer.byteLength(name, 'utf8') > MAX_ATTR_BYTES) {
        throw new EmulatorOptionsError('attrNames', name, `each name must be 1..${MAX_ATTR_BYTES} UTF-8 bytes`);
      }
      this.#slots[slot] = name;
    });
    this.#reindex();
  }

  isRegistered(name: string): boolean {
    return this.#registered.has(name);
  }

  /** Registered names in slot order. */
  names(): string[] {
    return this.#slots.filter((n): n is string => n !== undefined);
  }

  /** Slot → name, as im_get_attr_name answers. */
  slotMap(): Record<string, string> {
    const out: Record<string, string> = {};
    this.#slots.forEach((name, slot) => {
      if (name !== undefined) out[String(slot)] = name;
    });
    return out;
  }

  /** Merges slot assignments (slots not named keep their name). Inputs must be validated. */
  setSlots(assignments: ReadonlyMap<number, string>): void {
    for (const [slot, name] of assignments) this.#slots[slot] = name;
    this.#reindex();
  }

  /** Merges attributes into a user's record; later writes win per name. */
  merge(account: string, attrs: Readonly<Record<string, string>>): void {
    let stored = this.users.get(account);
    if (stored === undefined) {
      stored = Object.create(null) as StoredAttrs;
      this.users.set(account, stored);
    }
    for (const name of Object.keys(attrs)) stored[name] = attrs[name] ?? '';
  }

  /** Deletes the named attributes; a user left with none is dropped. */
  remove(account: string, names: readonly string[]): void {
    const stored = this.users.get(account);
    if (stored === undefined) return;
    for (const name of names) Reflect.deleteProperty(stored, name);
    if (Object.keys(stored).length === 0) this.users.delete(account);
  }

  #reindex(): void {
    this.#registered = new Set(this.names());
  }
}
