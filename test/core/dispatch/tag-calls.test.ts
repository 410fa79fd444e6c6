import { describe, expect, it } from 'vitest';
import { planTagCalls } from '../../../lib/core/dispatch/tag-calls.ts';
import { composeTagOps, type ComposedTags } from '../../../lib/core/rules/tag-ops.ts';

const tags = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('planning tag calls', () => {
  it('puts remove-alls, removes and adds in phases of at most 100 users, and an add at 10 tags a user a call', () => {
    // Prepare: 150 users cleared; one user removing 2 tags; one user adding 25 tags, another adding 3
    const composed = new Map<string, ComposedTags>([
      ...Array.from({ length: 150 }, (_, i): [string, ComposedTags] => [
        `c-${i}`,
        composeTagOps([{ kind: 'remove-all' }]),
      ]),
      ['r', composeTagOps([{ kind: 'remove', tags: ['x', 'y'] }])],
      ['a', composeTagOps([{ kind: 'add', tags: tags('t', 25) }])],
      ['b', composeTagOps([{ kind: 'add', tags: ['p', 'q', 'r'] }])],
    ]);

    // Act
    const plan = planTagCalls(composed);

    // Assess
    expect(plan.removeAll.map((c) => (c.kind === 'remove-all-tags' ? c.users.length : -1))).toEqual([100, 50]);
    expect(plan.remove).toEqual([{ kind: 'remove-tags', users: [{ To_Account: 'r', Tags: ['x', 'y'] }] }]);
    const adds = plan.add.map((c) => (c.kind === 'add-tags' ? c.users.map((u) => [u.To_Account, u.Tags.length]) : []));
    expect(adds).toEqual([
      [
        ['a', 10],
        ['b', 3],
      ],
      [['a', 10]],
      [['a', 5]],
    ]);
    // Every added tag is in exactly one call.
    const added = plan.add.flatMap((c) => (c.kind === 'add-tags' ? c.users.flatMap((u) => u.Tags) : []));
    expect(added.sort()).toEqual([...tags('t', 25), 'p', 'q', 'r'].sort());
  });

  it('makes no call for no operation, and a remove-all with a later add makes both, in that order', () => {
    // Act
    const none = planTagCalls(new Map());
    const both = planTagCalls(
      new Map([
        ['u', composeTagOps([{ kind: 'add', tags: ['a'] }, { kind: 'remove-all' }, { kind: 'add', tags: ['b'] }])],
      ]),
    );

    // Assess
    expect(none).toEqual({ removeAll: [], remove: [], add: [] });
    expect(both).toEqual({
      removeAll: [{ kind: 'remove-all-tags', users: [{ To_Account: 'u' }] }],
      remove: [],
      add: [{ kind: 'add-tags', users: [{ To_Account: 'u', Tags: ['b'] }] }],
    });
  });
});
