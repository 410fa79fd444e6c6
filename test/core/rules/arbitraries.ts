import fc from 'fast-check';

/** Attribute names near and past the rules: registered-looking, prototype keys, empty, long, CJK. */
export const attrNameArbitrary = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom('city', 'level', 'sex', '__proto__', 'constructor', 'prototype', '名字') },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 48, maxLength: 53 }) },
);

/** Attribute values: mostly strings of any width around the 50-byte limit, sometimes not strings. */
export const attrValueArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ minLength: 48, maxLength: 53 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constant('城'), minLength: 15, maxLength: 18 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);

/** Accounts from a small pool (so duplicates are frequent), sometimes malformed. */
export const accountArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('u1', 'u2', 'u3', '用户', '__proto__') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);

/** One `UserAttrs` entry, mostly well-shaped, sometimes anything at all. */
export const userEntryArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        To_Account: accountArbitrary,
        Attrs: fc.oneof(
          { weight: 6, arbitrary: fc.dictionary(attrNameArbitrary, attrValueArbitrary, { maxKeys: 4 }) },
          {
            weight: 2,
            arbitrary: fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { minKeys: 9, maxKeys: 12 }),
          },
          { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
        ),
      },
      // No required keys: To_Account or Attrs go missing now and then.
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
