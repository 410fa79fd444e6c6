import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyComposed, composeTagOps, isValidTag, type TagOp } from '../../../lib/core/rules/tag-ops.ts';

const SEED = 20261207;
const tag = fc.constantFrom('a', 'b', 'c', 'vip', 'beta');
const op: fc.Arbitrary<TagOp> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), tags: fc.array(tag, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('remove' as const), tags: fc.array(tag, { minLength: 1, maxLength: 4 }) }),
  fc.constant({ kind: 'remove-all' as const }),
);

/** What IM holds after the operations one by one. */
function oneByOne(held: ReadonlySet<string>, ops: readonly TagOp[]): Set<string> {
  const tags = new Set(held);
  for (const o of ops) {
    if (o.kind === 'remove-all') tags.clear();
    else if (o.kind === 'add') for (const t of o.tags) tags.add(t);
    else for (const t of o.tags) tags.delete(t);
  }
  return tags;
}

describe('composing a user tag operations', () => {
  it('leaves exactly the tag set of the operations applied one by one, from any starting set', () => {
    fc.assert(
      fc.property(fc.uniqueArray(tag), fc.array(op, { maxLength: 12 }), (start, ops) => {
        const held = new Set(start);
        expect([...applyComposed(held, composeTagOps(ops))].sort()).toEqual([...oneByOne(held, ops)].sort());
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('needs no call twice: an add and a remove never name the same tag, and a remove-all drops the removes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const composed = composeTagOps(ops);
        expect([...composed.add].filter((t) => composed.remove.has(t))).toEqual([]);
        if (composed.removeAll) expect(composed.remove.size).toBe(0);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('gives the examples of the contract', () => {
    // add a, then remove-all, then add b gives {b}; remove a then add a gives a present
    const first = composeTagOps([{ kind: 'add', tags: ['a'] }, { kind: 'remove-all' }, { kind: 'add', tags: ['b'] }]);
    const second = composeTagOps([
      { kind: 'remove', tags: ['a'] },
      { kind: 'add', tags: ['a'] },
    ]);
    expect([...applyComposed(new Set(['a', 'z']), first)]).toEqual(['b']);
    expect(first.removeAll).toBe(true);
    expect(applyComposed(new Set(['a']), second).has('a')).toBe(true);
    expect(second.remove.size).toBe(0);
  });

  it('takes a tag of 1 to 50 UTF-8 bytes, and nothing else', () => {
    expect(['vip', 't'.repeat(50), '深'.repeat(16)].map(isValidTag)).toEqual([true, true, true]);
    expect(['', 't'.repeat(51), '深'.repeat(17), 7, null].map(isValidTag)).toEqual([false, false, false, false, false]);
  });
});
