import { describe, expect, it } from 'vitest';
import { validateUsers } from '../../../lib/core/rules/validate-users.ts';
import { attrsWithNames, bodyOf, userEntry } from './factories.ts';

describe('validateUsers duplicate accounts', () => {
  it('merges the same account, later attributes winning per name', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', { a: '1', b: '1' }), userEntry('u1', { b: '2' }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([{ To_Account: 'u1', Attrs: { a: '1', b: '2' } }]);
    expect(result.rejected).toEqual([]);
    expect(result.received).toBe(2);
  });

  it('keeps the first-seen order of accounts and of names', () => {
    // Prepare
    const body = bodyOf(
      userEntry('u2', { x: '1' }),
      userEntry('u1', { b: '1', a: '1' }),
      userEntry('u2', { y: '2' }),
      userEntry('u3', { z: '3' }),
      userEntry('u1', { c: '2', b: '2' }),
    );

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users.map((user) => user.To_Account)).toEqual(['u2', 'u1', 'u3']);
    expect(Object.entries(result.users[1]?.Attrs ?? {})).toEqual([
      ['b', '2'],
      ['a', '1'],
      ['c', '2'],
    ]);
  });

  it('accepts a merge reaching exactly 10 names', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', attrsWithNames(6, 'a')), userEntry('u1', attrsWithNames(4, 'b')));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.rejected).toEqual([]);
    expect(Object.keys(result.users[0]?.Attrs ?? {})).toHaveLength(10);
  });

  it('rejects the entry whose merge would exceed 10 names and keeps the earlier attributes', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', attrsWithNames(6, 'a')), userEntry('u1', attrsWithNames(5, 'b')));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([{ To_Account: 'u1', Attrs: attrsWithNames(6, 'a') }]);
    expect(result.rejected).toEqual([
      {
        To_Account: 'u1',
        index: 1,
        path: 'UserAttrs[1].Attrs',
        rule: 'attrs-max-10-names',
        message:
          'UserAttrs[1].Attrs must hold at most 10 attribute names (merged with earlier entries for the same To_Account it would have 11) [attrs-max-10-names].',
      },
    ]);
  });

  it('counts only new names when merging: overwriting 10 names stays within the limit', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', attrsWithNames(10)), userEntry('u1', { n3: 'new' }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.rejected).toEqual([]);
    expect(result.users[0]?.Attrs).toEqual({ ...attrsWithNames(10), n3: 'new' });
  });

  it('does not let a rejected duplicate change the account', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', { a: '1' }), userEntry('u1', { a: '2', b: 7 }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([{ To_Account: 'u1', Attrs: { a: '1' } }]);
    expect(result.rejected.map((rejection) => rejection.rule)).toEqual(['value-must-be-string']);
  });

  it('does not change the input objects when merging', () => {
    // Prepare
    const first = { a: '1' };
    const body = bodyOf(userEntry('u1', first), userEntry('u1', { b: '2' }));

    // Act
    validateUsers(body);

    // Assess
    expect(first).toEqual({ a: '1' });
  });
});
