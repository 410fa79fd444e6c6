/**
 * `names set 0=sex 1=city`: the assignments, checked against IM's rules for attribute names, and the change
 * they make to the current slots.
 */
import { MAX_ATTR_NAME_BYTES, MAX_ATTR_NAMES } from '../../lib/core/rules/constants.ts';
import { UsageError } from '../exit-codes.ts';

/** IM has 10 attribute slots, "0".."9" (docs/im-api.md). */
export const SLOT_COUNT = MAX_ATTR_NAMES;

export type SlotChange = 'add' | 'rename' | 'unchanged';

export interface SlotDiff {
  readonly slot: number;
  readonly current: string | undefined;
  readonly next: string;
  readonly change: SlotChange;
}

/** Reads `SLOT=NAME` arguments; each refusal names the argument or slot and the rule. */
export function parseAssignments(args: readonly string[]): Map<number, string> {
  if (args.length === 0)
    throw new UsageError('name at least one slot, e.g. `names set 0=sex` [slot-assignment-required]');
  if (args.length > SLOT_COUNT)
    throw new UsageError(
      `at most ${SLOT_COUNT} slots can be named: IM has ${SLOT_COUNT} (got ${args.length} assignments) [max-10-slots]`,
    );
  const assignments = new Map<number, string>();
  for (const arg of args) {
    const match = /^(\d+)=(.*)$/s.exec(arg);
    if (match === null) throw new UsageError(`"${arg}" must be SLOT=NAME, e.g. 0=sex [slot-assignment-format]`);
    const [, slotText = '', name = ''] = match;
    const slot = Number(slotText);
    if (slot >= SLOT_COUNT)
      throw new UsageError(
        `slot ${slotText} (in "${arg}") must be 0–${SLOT_COUNT - 1}: IM has ${SLOT_COUNT} attribute slots [slot-range-0-9]`,
      );
    if (assignments.has(slot)) throw new UsageError(`slot ${slot} is named twice [slot-named-twice]`);
    if (name === '') throw new UsageError(`slot ${slot}: the name must not be empty [attr-name-required]`);
    const bytes = Buffer.byteLength(name, 'utf8');
    if (bytes > MAX_ATTR_NAME_BYTES)
      throw new UsageError(
        `slot ${slot}: the name is ${bytes} bytes; a name is at most ${MAX_ATTR_NAME_BYTES} bytes in UTF-8 [attr-name-max-50-bytes]`,
      );
    assignments.set(slot, name);
  }
  return assignments;
}

/**
 * The change against the current slots. IM keeps slots not named in a call, so the result is the current
 * slots with the assignments laid over them; a name may appear in one slot only.
 */
export function planSlots(current: ReadonlyMap<number, string>, assignments: ReadonlyMap<number, string>): SlotDiff[] {
  const result = new Map(current);
  for (const [slot, name] of assignments) result.set(slot, name);
  const slotsByName = new Map<string, number[]>();
  for (const [slot, name] of [...result].sort(([a], [b]) => a - b))
    slotsByName.set(name, [...(slotsByName.get(name) ?? []), slot]);
  for (const [name, slots] of slotsByName) {
    if (slots.length > 1)
      throw new UsageError(
        `the name "${name}" would be in slots ${slots.join(' and ')}; each name may hold one slot only [attr-name-duplicate]`,
      );
  }
  return [...assignments]
    .sort(([a], [b]) => a - b)
    .map(([slot, next]) => {
      const was = current.get(slot);
      const change: SlotChange = was === undefined ? 'add' : was === next ? 'unchanged' : 'rename';
      return { slot, current: was, next, change };
    });
}
