/**
 * Request bodies for fuzzing, as JSON *text*: objects are written key by key, so `__proto__`,
 * `constructor` and `prototype` arrive as real own keys after `JSON.parse`, as they would from a caller.
 *
 * Characters outside the Basic Multilingual Plane (emoji) appear only where the rules reject the user
 * (over-long strings, unregistered names): fauxqs checks bodies code unit by code unit and refuses any
 * surrogate, even a valid pair, so an emoji in an accepted, queued user would fail in fauxqs alone.
 * U+FFFE and U+FFFF never appear: see the pinned cases in the fuzz tests.
 */
import fc from 'fast-check';

/** The attribute names the fuzzed copies are configured with (`ATTR_NAMES`). */
export const FUZZ_ATTR_NAMES = ['sex', 'city', 'tier', 'lang'] as const;

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** JSON text of an object with these keys in this order, each an own key even when named `__proto__`. */
export function objectText(pairs: readonly (readonly [string, string])[]): string {
  return `{${pairs.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

const arrayText = (items: readonly string[]): string => `[${items.join(',')}]`;
const text = (value: string): string => JSON.stringify(value);

/** Values that try to reach a prototype when merged carelessly. */
const pollutingText = fc.constantFrom('{"polluted":1}', '{"prototype":{"polluted":1}}', '{"__proto__":{"polluted":1}}');

/** Any JSON value but a string. */
const nonStringText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('null', 'true', 'false', '[]', '{}', '[""]', '{"":""}'),
  fc
    .jsonValue({ maxDepth: 2 })
    .filter((v) => typeof v !== 'string')
    .map((v) => JSON.stringify(v)),
  pollutingText,
);

/** Strings the rules accept (at most 32 bytes, BMP only): ASCII, control characters, CJK. */
const acceptableString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 8 }) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: fc.constantFrom('城', '北', '語', 'é', 'ß'), minLength: 1, maxLength: 10 }),
  },
  { weight: 1, arbitrary: fc.constantFrom(' ', 'null', '0', 'Paris', '__proto__', 'constructor') },
);

/** Strings over every byte limit (32 for accounts, 50 for names and values), of several widths. */
const overLongString = fc.oneof(
  fc.string({ minLength: 51, maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('城', '北', '語'), minLength: 17, maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('😀', '👍🏽', '🇫🇷'), minLength: 13, maxLength: 20 }),
  fc.string({ unit: 'grapheme', minLength: 60, maxLength: 120 }).filter((s) => Buffer.byteLength(s) > 50),
  fc.string({ minLength: 300, maxLength: 2000 }),
);

const accountText = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 40 }).map((i) => text(`fz-${i}`)) },
  { weight: 3, arbitrary: acceptableString.map(text) },
  { weight: 1, arbitrary: fc.constant(text('')) },
  { weight: 1, arbitrary: fc.constantFrom(text('a'.repeat(33)), text('用'.repeat(11)), text('😀'.repeat(9))) },
  { weight: 1, arbitrary: overLongString.map(text) },
  { weight: 2, arbitrary: nonStringText },
);

const attrNameArbitrary = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...FUZZ_ATTR_NAMES) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom('planet', 'City', 'sex ', '名字', '😀', 'toString', 'hasOwnProperty') },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: overLongString },
);

const attrValueText = fc.oneof(
  { weight: 10, arbitrary: acceptableString.map(text) },
  { weight: 1, arbitrary: fc.constant(text('')) },
  { weight: 2, arbitrary: overLongString.map(text) },
  { weight: 1, arbitrary: fc.constant(text('城'.repeat(17))) },
  { weight: 3, arbitrary: nonStringText },
);

const attrsText = fc.oneof(
  { weight: 10, arbitrary: fc.array(fc.tuple(attrNameArbitrary, attrValueText), { maxLength: 12 }).map(objectText) },
  {
    weight: 2,
    arbitrary: fc.array(fc.tuple(attrNameArbitrary, attrValueText), { minLength: 1, maxLength: 3 }).map(objectText),
  },
  { weight: 1, arbitrary: fc.constantFrom('{}', 'null', '[]', '"city"', '42', '[{"city":"Paris"}]') },
  { weight: 1, arbitrary: nonStringText },
);

/** A key a caller should not send on a user or on the body: prototype keys and strangers. */
const extraPair = fc.tuple(
  fc.oneof(
    fc.constantFrom(...PROTOTYPE_KEYS),
    fc.constantFrom('to_account', 'attrs', 'Extra', ''),
    fc.string({ maxLength: 6 }),
  ),
  fc.oneof(pollutingText, nonStringText, acceptableString.map(text)),
);

/** One `UserAttrs` entry: usually a user with mutations, sometimes any JSON value at all. */
export const userEntryText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record({
        account: fc.option(accountText, { freq: 12 }),
        attrs: fc.option(attrsText, { freq: 12 }),
        extras: fc.array(extraPair, { maxLength: 2 }),
        extrasFirst: fc.boolean(),
      })
      .map(({ account, attrs, extras, extrasFirst }) => {
        const own: [string, string][] = [];
        if (account !== null) own.push(['To_Account', account]);
        if (attrs !== null) own.push(['Attrs', attrs]);
        return objectText(extrasFirst ? [...extras, ...own] : [...own, ...extras]);
      }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('null', '[]', '"u1"', '{"__proto__":{"To_Account":"inherited","Attrs":{"city":"x"}}}'),
  },
);

/** `{"UserAttrs":[...]}` near the schema: mutated users, extra and prototype keys, a wrong `UserAttrs`. */
export const nearValidBodyText: fc.Arbitrary<string> = fc
  .record({
    users: fc.oneof(
      { weight: 12, arbitrary: fc.array(userEntryText, { maxLength: 8 }).map(arrayText) },
      { weight: 1, arbitrary: fc.oneof(nonStringText, fc.constant('"[]"')) },
    ),
    extras: fc.array(extraPair, { maxLength: 2 }),
    extrasFirst: fc.boolean(),
    dropUsers: fc.nat(30).map((n) => n === 0),
  })
  .map(({ users, extras, extrasFirst, dropUsers }) => {
    const own: [string, string][] = dropUsers ? [] : [['UserAttrs', users]];
    return objectText(extrasFirst ? [...extras, ...own] : [...own, ...extras]);
  });

/** Anything at all as text: printable, full Unicode, binary ASCII, JSON-looking garbage. */
const randomText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'binary-ascii', maxLength: 100 }),
  fc.string({
    unit: fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      '"',
      ':',
      ',',
      'UserAttrs',
      'To_Account',
      'Attrs',
      'null',
      '1',
      ' ',
      '\\',
    ),
    maxLength: 40,
  }),
);

/** Every kind of body: mostly near the schema, then any JSON, random text, and cut-off valid JSON. */
export const bodyText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: nearValidBodyText },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: randomText },
  {
    weight: 1,
    arbitrary: fc
      .tuple(nearValidBodyText, fc.nat())
      .map(([body, cut]) => body.slice(0, cut % Math.max(1, body.length))),
  },
);
