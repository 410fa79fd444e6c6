import fc from 'fast-check';

/** Attribute names near and past the rules: registered-looking, prototype keys, empty, long, CJK. */
export const attrNameArbitrary = fc.oneof(
  fc.constantFrom('city', 'level', 'sex', '__proto__', 'constructor', 'prototype', '', '名字'),
  fc.string({ maxLength: 60 }),
);

/** Attribute values: mostly strings of any width around the 50-byte limit, sometimes not strings. */
export const attrValueArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 55 }) },
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
          { weight: 8, arbitrary: fc.dictionary(attrNameArbitrary, attrValueArbitrary, { maxKeys: 12 }) },
          { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
