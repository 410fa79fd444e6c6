import { describe, expect, it } from 'vitest';
import { checkTagEntry, parseUserTagsEnvelope, validateTagEntries } from '../../../lib/core/rules/tag-entry.ts';

describe("one user's tags entry", () => {
  it('reads remove-all, remove and add in that order, each tag once, and IM own Tags as an add', () => {
    // Act
    const full = checkTagEntry({ To_Account: 'u1', Add: ['vip', 'vip', 'beta'], Remove: ['trial'], RemoveAll: true });
    const im = checkTagEntry({ To_Account: 'u2', Tags: ['vip'] });

    // Assess
    expect(full).toEqual({
      ok: true,
      account: 'u1',
      ops: [{ kind: 'remove-all' }, { kind: 'remove', tags: ['trial'] }, { kind: 'add', tags: ['vip', 'beta'] }],
    });
    expect(im).toEqual({ ok: true, account: 'u2', ops: [{ kind: 'add', tags: ['vip'] }] });
  });

  it('takes more than 10 added tags (they are split into calls, not refused)', () => {
    const entry = checkTagEntry({ To_Account: 'u1', Add: Array.from({ length: 25 }, (_, i) => `t${i}`) });
    expect(entry.ok && entry.ops[0]?.kind === 'add' ? entry.ops[0].tags.length : -1).toBe(25);
  });

  it.each([
    ['not an object', 'x', null, '', 'user-must-be-object'],
    ['no account', { Add: ['a'] }, null, 'To_Account', 'to-account-required'],
    [
      'a 33-byte account',
      { To_Account: 'x'.repeat(33), Add: ['a'] },
      'x'.repeat(33),
      'To_Account',
      'to-account-max-32-bytes',
    ],
    ['no operation', { To_Account: 'u1' }, 'u1', '', 'tag-op-required'],
    ['empty lists only', { To_Account: 'u1', Add: [], Remove: [] }, 'u1', '', 'tag-op-required'],
    ['Add not a list', { To_Account: 'u1', Add: 'vip' }, 'u1', 'Add', 'tags-must-be-array'],
    ['a number tag', { To_Account: 'u1', Remove: ['a', 7] }, 'u1', 'Remove[1]', 'tag-must-be-string'],
    ['an empty tag', { To_Account: 'u1', Add: [''] }, 'u1', 'Add[0]', 'tag-required'],
    ['a 51-byte tag', { To_Account: 'u1', Add: ['t'.repeat(51)] }, 'u1', 'Add[0]', 'tag-max-50-bytes'],
    ['RemoveAll false', { To_Account: 'u1', RemoveAll: false }, 'u1', 'RemoveAll', 'remove-all-must-be-true'],
  ] as const)('refuses %s, naming the field and the rule', (_label, entry, account, field, rule) => {
    // Act
    const check = checkTagEntry(entry);

    // Assess
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.fault).toMatchObject({ account, field, rule });
  });
});

describe('a tags request read by the rules', () => {
  it("composes each user's entries in order, names each refused entry's field and rule, and never quotes a tag", () => {
    // Prepare
    const envelope = parseUserTagsEnvelope({
      UserTags: [
        { To_Account: 'u1', Add: ['a'] },
        { To_Account: 'u2', Add: ['secret-value-'.repeat(5)] },
        { To_Account: 'u1', RemoveAll: true, Add: ['b'] },
        { To_Account: 'u1', Remove: ['b'], Add: ['c'] },
      ],
    });

    // Act
    const { users, rejected } = validateTagEntries(envelope, envelope.entries.keys());

    // Assess
    expect(users).toEqual([{ To_Account: 'u1', RemoveAll: true, Add: ['c'] }]);
    expect(rejected).toEqual([
      {
        To_Account: 'u2',
        index: 1,
        path: 'UserTags[1].Add[0]',
        rule: 'tag-max-50-bytes',
        message: 'UserTags[1].Add[0] must be at most 50 bytes in UTF-8 (it is 65 bytes) [tag-max-50-bytes].',
      },
    ]);
  });

  it("takes IM's remove-all body, and refuses a body that is neither", () => {
    // Act
    const envelope = parseUserTagsEnvelope({ To_Account: ['u1', ''] });
    const { users, rejected } = validateTagEntries(envelope, envelope.entries.keys());

    // Assess
    expect(users).toEqual([{ To_Account: 'u1', RemoveAll: true }]);
    expect(rejected.map((r) => [r.path, r.rule])).toEqual([['To_Account[1]', 'to-account-required']]);
    expect(() => parseUserTagsEnvelope({ UserTags: {} })).toThrow(/UserTags must be an array.*user-tags-must-be-array/);
    expect(() => parseUserTagsEnvelope([])).toThrow(/body-must-be-object/);
  });
});
