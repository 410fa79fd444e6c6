import { describe, expect, it } from 'vitest';
import {
  MAX_ACCOUNT_BYTES,
  MAX_ATTR_NAME_BYTES,
  MAX_ATTR_NAMES,
  MAX_VALUE_BYTES,
} from '../../../lib/core/rules/constants.ts';
import { validateUsers } from '../../../lib/core/rules/validate-users.ts';
import { attrsWithNames, bodyOf, cjk, userEntry } from './factories.ts';

describe('validateUsers per-user rules', () => {
  it.each([
    ['an account of exactly 32 bytes', 'a'.repeat(MAX_ACCOUNT_BYTES)],
    ['an account of 10 CJK characters (30 bytes)', cjk(10)],
    ['a one-character account', 'x'],
  ])('accepts %s', (_label, account) => {
    // Prepare
    const body = bodyOf(userEntry(account, { city: 'Paris' }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.rejected).toEqual([]);
    expect(result.users).toEqual([{ To_Account: account, Attrs: { city: 'Paris' } }]);
  });

  it.each([
    ['a missing account', undefined, 'to-account-required', null],
    ['a null account', null, 'to-account-required', null],
    ['an empty account', '', 'to-account-required', ''],
    ['a numeric account', 42, 'to-account-must-be-string', null],
    ['an account of 33 bytes', 'a'.repeat(MAX_ACCOUNT_BYTES + 1), 'to-account-max-32-bytes', 'a'.repeat(33)],
    ['an account of 11 CJK characters (33 bytes)', cjk(11), 'to-account-max-32-bytes', cjk(11)],
  ])('rejects %s', (_label, account, rule, reported) => {
    // Prepare
    const body = bodyOf(userEntry(account, { city: 'Paris' }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([]);
    expect(result.rejected).toEqual([
      { To_Account: reported, index: 0, path: 'UserAttrs[0].To_Account', rule, message: expect.any(String) },
    ]);
    expect(result.rejected[0]?.message).toContain('UserAttrs[0].To_Account');
    expect(result.rejected[0]?.message).toContain(rule);
  });

  it('accepts exactly 10 attribute names and rejects 11', () => {
    // Prepare
    const body = bodyOf(userEntry('ten', attrsWithNames(MAX_ATTR_NAMES)), userEntry('eleven', attrsWithNames(11)));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([{ To_Account: 'ten', Attrs: attrsWithNames(10) }]);
    expect(result.rejected).toEqual([
      {
        To_Account: 'eleven',
        index: 1,
        path: 'UserAttrs[1].Attrs',
        rule: 'attrs-max-10-names',
        message: expect.any(String),
      },
    ]);
  });

  it.each([
    ['missing Attrs', undefined, 'attrs-required'],
    ['null Attrs', null, 'attrs-required'],
    ['array Attrs', ['city'], 'attrs-must-be-object'],
    ['string Attrs', 'city', 'attrs-must-be-object'],
    ['empty Attrs', {}, 'attrs-must-not-be-empty'],
  ])('rejects %s', (_label, attrs, rule) => {
    // Prepare
    const body = bodyOf(userEntry('u1', attrs));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([]);
    expect(result.rejected).toEqual([
      { To_Account: 'u1', index: 0, path: 'UserAttrs[0].Attrs', rule, message: expect.stringContaining(rule) },
    ]);
  });

  it('accepts a 50-byte attribute name and rejects a 51-byte one', () => {
    // Prepare
    const atLimit = 'n'.repeat(MAX_ATTR_NAME_BYTES);
    const pastLimit = 'n'.repeat(MAX_ATTR_NAME_BYTES + 1);
    const body = bodyOf(userEntry('ok', { [atLimit]: 'v' }), userEntry('ko', { [pastLimit]: 'v' }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([{ To_Account: 'ok', Attrs: { [atLimit]: 'v' } }]);
    expect(result.rejected).toEqual([
      {
        To_Account: 'ko',
        index: 1,
        path: `UserAttrs[1].Attrs.${pastLimit}`,
        rule: 'attr-name-max-50-bytes',
        message: expect.any(String),
      },
    ]);
  });

  it('rejects an empty attribute name', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', { '': 'v' }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.rejected).toEqual([
      {
        To_Account: 'u1',
        index: 0,
        path: 'UserAttrs[0].Attrs[""]',
        rule: 'attr-name-required',
        message: expect.any(String),
      },
    ]);
  });

  it('accepts a 50-byte value and rejects a 51-byte one', () => {
    // Prepare
    const body = bodyOf(
      userEntry('ok', { city: 'v'.repeat(MAX_VALUE_BYTES) }),
      userEntry('ko', { city: 'v'.repeat(MAX_VALUE_BYTES + 1) }),
    );

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users.map((user) => user.To_Account)).toEqual(['ok']);
    expect(result.rejected).toEqual([
      {
        To_Account: 'ko',
        index: 1,
        path: 'UserAttrs[1].Attrs.city',
        rule: 'value-max-50-bytes',
        message: expect.any(String),
      },
    ]);
  });

  it('counts bytes, not characters: 16 CJK characters (48 bytes) pass, 17 (51 bytes) are rejected', () => {
    // Prepare
    const body = bodyOf(userEntry('sixteen', { city: cjk(16) }), userEntry('seventeen', { city: cjk(17) }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([{ To_Account: 'sixteen', Attrs: { city: cjk(16) } }]);
    expect(result.rejected.map((rejection) => [rejection.To_Account, rejection.rule])).toEqual([
      ['seventeen', 'value-max-50-bytes'],
    ]);
    expect(result.rejected[0]?.message).toBe(
      'UserAttrs[1].Attrs.city must be at most 50 bytes in UTF-8 (it is 51 bytes) [value-max-50-bytes].',
    );
  });

  it('counts an emoji (a surrogate pair) as 4 bytes', () => {
    // Prepare: 12 emoji = 48 bytes, 13 = 52 bytes, though both are under 50 UTF-16 units.
    const body = bodyOf(userEntry('fits', { mood: '😀'.repeat(12) }), userEntry('over', { mood: '😀'.repeat(13) }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users.map((user) => user.To_Account)).toEqual(['fits']);
    expect(result.rejected.map((rejection) => rejection.rule)).toEqual(['value-max-50-bytes']);
  });

  it('accepts a null value as the removal of that attribute, beside values to set', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', { city: 'Paris', level: null }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.rejected).toEqual([]);
    expect(result.users).toEqual([{ To_Account: 'u1', Attrs: { city: 'Paris', level: null } }]);
  });

  it('merges a later null over an earlier value of the same account, and a later value over an earlier null', () => {
    // Prepare
    const body = bodyOf(
      userEntry('u1', { city: 'Paris', level: 'gold' }),
      userEntry('u1', { level: null, city: null }),
      userEntry('u1', { city: 'Rome' }),
    );

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([{ To_Account: 'u1', Attrs: { city: 'Rome', level: null } }]);
  });

  it.each([
    ['a number', 3],
    ['a boolean', true],
    ['an object', { nested: 'x' }],
    ['an array', ['x']],
  ])('rejects a value that is %s', (_label, value) => {
    // Prepare
    const body = bodyOf(userEntry('u1', { city: 'Paris', level: value }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.rejected).toEqual([
      {
        To_Account: 'u1',
        index: 0,
        path: 'UserAttrs[0].Attrs.level',
        rule: 'value-must-be-string',
        message: expect.any(String),
      },
    ]);
  });

  it.each([
    ['null', null],
    ['a string', 'u1'],
    ['an array', [{ To_Account: 'u1', Attrs: { a: 'b' } }]],
    ['a number', 7],
  ])('rejects an entry that is %s', (_label, entry) => {
    // Prepare
    const body = bodyOf(entry);

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.rejected).toEqual([
      { To_Account: null, index: 0, path: 'UserAttrs[0]', rule: 'user-must-be-object', message: expect.any(String) },
    ]);
  });

  it('rejects only the user carrying a name outside the allow-list', () => {
    // Prepare
    const allowedNames = new Set(['city', 'level']);
    const body = bodyOf(
      userEntry('known', { city: 'Paris', level: 'gold' }),
      userEntry('unknown', { city: 'Paris', shoe: '42' }),
    );

    // Act
    const result = validateUsers(body, { allowedNames });

    // Assess
    expect(result.users).toEqual([{ To_Account: 'known', Attrs: { city: 'Paris', level: 'gold' } }]);
    expect(result.rejected).toEqual([
      {
        To_Account: 'unknown',
        index: 1,
        path: 'UserAttrs[1].Attrs.shoe',
        rule: 'attr-name-unregistered',
        message: 'UserAttrs[1].Attrs.shoe is not an attribute name registered for the app [attr-name-unregistered].',
      },
    ]);
  });

  it('accepts any well-formed name without an allow-list', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', { shoe: '42' }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([{ To_Account: 'u1', Attrs: { shoe: '42' } }]);
  });

  it('keeps the good users of a request when others are bad, and counts every entry', () => {
    // Prepare
    const body = bodyOf(
      userEntry('a', { city: 'Paris' }),
      null,
      userEntry('b', { city: cjk(17) }),
      userEntry('c', { city: 'Lyon' }),
      userEntry(5, { city: 'Nice' }),
      userEntry('d', { city: 'Metz' }),
    );

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.received).toBe(6);
    expect(result.users.map((user) => user.To_Account)).toEqual(['a', 'c', 'd']);
    expect(result.rejected.map((rejection) => rejection.path)).toEqual([
      'UserAttrs[1]',
      'UserAttrs[2].Attrs.city',
      'UserAttrs[4].To_Account',
    ]);
  });

  it('drops keys other than To_Account and Attrs and shares no object with the input', () => {
    // Prepare
    const attrs = { city: 'Paris' };
    const body = bodyOf({ To_Account: 'u1', Attrs: attrs, Extra: 'x' });

    // Act
    const result = validateUsers(body);
    attrs.city = 'changed later';

    // Assess
    expect(result.users).toEqual([{ To_Account: 'u1', Attrs: { city: 'Paris' } }]);
    expect(Object.keys(result.users[0] ?? {})).toEqual(['To_Account', 'Attrs']);
  });

  it('names a quoted path for attribute names that are not identifiers', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', { 'home city': 5 }));

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.rejected[0]?.path).toBe('UserAttrs[0].Attrs["home city"]');
  });
});
