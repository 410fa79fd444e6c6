import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ATTR_NAMES } from '../../../lib/core/rules/constants.ts';
import { RequestShapeError } from '../../../lib/core/errors.ts';
import type { UserAttr, ValidationResult } from '../../../lib/core/rules/types.ts';
import { validateUsers } from '../../../lib/core/rules/validate-users.ts';
import { userEntryArbitrary } from './arbitraries.ts';
import { entryIndex } from './factories.ts';

const SEED = 424242;

// The expected users, rebuilt independently: accepted entries merged per account, later names winning.
function mergeAccepted(
  entries: readonly unknown[],
  rejectedIndexes: ReadonlySet<number>,
): Map<string, Map<string, string>> {
  const merged = new Map<string, Map<string, string>>();
  entries.forEach((entry, index) => {
    if (rejectedIndexes.has(index)) return;
    const { To_Account: account, Attrs: attrs } = entry as UserAttr;
    const names = merged.get(account) ?? new Map<string, string>();
    for (const [name, value] of Object.entries(attrs)) names.set(name, value);
    merged.set(account, names);
  });
  return merged;
}

function assessAccounting(entries: readonly unknown[], result: ValidationResult): void {
  expect(result.received).toBe(entries.length);
  for (const rejection of result.rejected) expect(entryIndex(rejection.path)).toBe(rejection.index);
  const rejectedIndexes = new Set(result.rejected.map((rejection) => rejection.index));
  // Every entry is rejected at most once...
  expect(rejectedIndexes.size).toBe(result.rejected.length);
  for (const index of rejectedIndexes) expect(index).toBeLessThan(entries.length);
  // ...and every other entry ends up, merged, in `users`.
  const expected = mergeAccepted(entries, rejectedIndexes);
  expect(result.users.map((user) => user.To_Account)).toEqual([...expected.keys()]);
  for (const user of result.users) {
    expect(Object.entries(user.Attrs)).toEqual([...(expected.get(user.To_Account) ?? [])]);
    expect(Object.keys(user.Attrs).length).toBeLessThanOrEqual(MAX_ATTR_NAMES);
  }
}

describe('validateUsers properties', () => {
  it('never throws on arbitrary JSON except the typed request-shape error', () => {
    // Prepare
    const property = fc.property(fc.json({ maxDepth: 4 }), (text) => {
      const body: unknown = JSON.parse(text);

      // Act
      let outcome: ValidationResult | RequestShapeError;
      try {
        outcome = validateUsers(body);
      } catch (error) {
        // Assess
        expect(error).toBeInstanceOf(RequestShapeError);
        return;
      }
      assessAccounting((body as { UserAttrs: unknown[] }).UserAttrs, outcome);
    });

    // Act & Assess
    fc.assert(property, { seed: SEED, numRuns: 1000 });
  });

  it('puts every entry of a UserAttrs array either in users (merged) or in rejected', () => {
    // Prepare
    const bodies = fc.array(userEntryArbitrary, { maxLength: 30 }).map((entries) => ({ UserAttrs: entries }));
    const property = fc.property(bodies, (body) => {
      // Act: through JSON, as a real request arrives.
      const parsed = JSON.parse(JSON.stringify(body)) as { UserAttrs: unknown[] };
      const result = validateUsers(parsed, {});

      // Assess
      assessAccounting(parsed.UserAttrs, result);
      for (const rejection of result.rejected) {
        expect(rejection.message).toContain(rejection.path);
        expect(rejection.message).toContain(rejection.rule);
      }
    });

    // Act & Assess
    fc.assert(property, { seed: SEED, numRuns: 500 });
  });

  it('rejects every user carrying a name outside the allow-list', () => {
    // Prepare
    const allowedNames = new Set(['city', 'level']);
    const bodies = fc.array(userEntryArbitrary, { maxLength: 20 }).map((entries) => ({ UserAttrs: entries }));
    const property = fc.property(bodies, (body) => {
      // Act
      const result = validateUsers(JSON.parse(JSON.stringify(body)), { allowedNames });

      // Assess
      for (const user of result.users) {
        for (const name of Object.keys(user.Attrs)) expect(allowedNames.has(name)).toBe(true);
      }
    });

    // Act & Assess
    fc.assert(property, { seed: SEED, numRuns: 300 });
  });
});
