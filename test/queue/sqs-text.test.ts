import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageSize, toSqsAttributes, userUpdatesBody } from '../../lib/queue/message-format.ts';
import { sqsSafeJson, sqsSafeText } from '../../lib/queue/sqs-text.ts';

/** True when every character is one SQS accepts (#x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF), checked code point by code point. */
function isSqsText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = text.charCodeAt(i + 1);
      if (!(low >= 0xdc00 && low <= 0xdfff)) return false;
      i++;
      continue;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return false;
    if (unit === 0x9 || unit === 0xa || unit === 0xd) continue;
    if (unit < 0x20 || unit === 0xfffe || unit === 0xffff) return false;
  }
  return true;
}

/** Any UTF-16 code unit, with the troublesome ones drawn often. */
const codeUnit = fc.oneof(
  fc.constantFrom(
    '\uFFFE',
    '\uFFFF',
    '\uD800',
    '\uDBFF',
    '\uDC00',
    '\uDFFF',
    '\u0000',
    '\u0008',
    '\u001F',
    '\t',
    '\n',
    '\r',
    '😀',
    '中',
  ),
  fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
);
const anyText = fc.string({ unit: codeUnit, maxLength: 40 });
const SEED = { seed: 20260301, numRuns: 500 };

describe('sqsSafeJson', () => {
  it('escapes U+FFFE and U+FFFF, which JSON.stringify writes raw', () => {
    // Prepare
    const value = { UserAttrs: [{ To_Account: 'u\uFFFE', Attrs: { 'k\uFFFF': 'v\uFFFE\uFFFF' } }] };

    // Act
    const json = sqsSafeJson(value);

    // Assess
    expect(json).toBe('{"UserAttrs":[{"To_Account":"u\\ufffe","Attrs":{"k\\uffff":"v\\ufffe\\uffff"}}]}');
    expect(isSqsText(json)).toBe(true);
    expect(JSON.parse(json)).toEqual(value);
  });

  it('leaves JSON without non-characters unchanged', () => {
    // Prepare
    const value = { a: 'plain', b: ['中文', '😀', '\u0000', '\uD800'], c: 1.5, d: null };

    // Act
    const json = sqsSafeJson(value);

    // Assess
    expect(json).toBe(JSON.stringify(value));
  });

  it('writes SQS-safe text that parses back to the same value, for any JSON value', () => {
    // Prepare
    const values = fc.jsonValue({ stringUnit: codeUnit, maxDepth: 3 });

    // Act
    const run = () =>
      fc.assert(
        fc.property(values, (value) => {
          const json = sqsSafeJson(value);
          return isSqsText(json) && JSON.stringify(JSON.parse(json)) === JSON.stringify(value);
        }),
        SEED,
      );

    // Assess
    expect(run).not.toThrow();
  });

  it('builds the IM body the queue carries', () => {
    // Prepare
    const users = [{ To_Account: 'u-1', Attrs: { city: 'x\uFFFF' } }];

    // Act
    const body = userUpdatesBody(users);

    // Assess
    expect(JSON.parse(body)).toEqual({ UserAttrs: users });
    expect(isSqsText(body)).toBe(true);
  });
});

describe('sqsSafeText', () => {
  it('replaces forbidden control characters with U+FFFD and keeps tab, newline and carriage return', () => {
    // Prepare
    const text = 'a\u0000b\u0008c\u000Bd\u001Fe\tf\ng\rh\u007F';

    // Act
    const safe = sqsSafeText(text);

    // Assess
    expect(safe).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\tf\ng\rh\u007F');
  });

  it('replaces U+FFFE and U+FFFF', () => {
    // Prepare
    const text = 'x\uFFFEy\uFFFFz';

    // Act
    const safe = sqsSafeText(text);

    // Assess
    expect(safe).toBe('x\uFFFDy\uFFFDz');
  });

  it('replaces lone surrogates and keeps valid pairs', () => {
    // Prepare
    const text = '\uD800a\uDC00b😀\uDBFF\uD83D\uDE00\uDFFF\uDC00\uD800';

    // Act
    const safe = sqsSafeText(text);

    // Assess
    expect(safe).toBe('\uFFFDa\uFFFDb😀\uFFFD😀\uFFFD\uFFFD\uFFFD');
  });

  it('returns text within the limit as is', () => {
    // Prepare
    const text = 'a'.repeat(1000);

    // Act
    const safe = sqsSafeText(text);

    // Assess
    expect(safe).toBe(text);
  });

  it('cuts long text to maxChars, ending with an ellipsis', () => {
    // Prepare
    const text = 'a'.repeat(1001);

    // Act
    const safe = sqsSafeText(text);

    // Assess
    expect(safe).toHaveLength(1000);
    expect(safe.endsWith('a...')).toBe(true);
  });

  it('does not split a surrogate pair at the cut', () => {
    // Prepare: the pair sits across the cut point (characters 7 and 8 of 10 - 3 kept)
    const text = `${'a'.repeat(6)}😀${'b'.repeat(10)}`;

    // Act
    const safe = sqsSafeText(text, 10);

    // Assess
    expect(safe).toBe('aaaaaa...');
  });

  it('keeps a pair that ends right at the cut', () => {
    // Prepare
    const text = `${'a'.repeat(5)}😀${'b'.repeat(10)}`;

    // Act
    const safe = sqsSafeText(text, 10);

    // Assess
    expect(safe).toBe('aaaaa😀...');
  });

  it('always gives SQS-safe text of at most maxChars, whatever the input and the cut', () => {
    // Prepare
    const inputs = fc.tuple(anyText, fc.integer({ min: 3, max: 45 }));

    // Act
    const run = () =>
      fc.assert(
        fc.property(inputs, ([text, maxChars]) => {
          const safe = sqsSafeText(text, maxChars);
          return isSqsText(safe) && safe.length <= maxChars;
        }),
        SEED,
      );

    // Assess
    expect(run).not.toThrow();
  });

  it('never returns more than maxChars, even for a limit shorter than the ellipsis', () => {
    // Prepare
    const text = 'abcdef';

    // Act
    const safe = sqsSafeText(text, 2);

    // Assess
    expect(safe.length).toBeLessThanOrEqual(2);
  });
});

describe('message attributes', () => {
  it('turns attributes into SQS String attributes, leaving out empty values', () => {
    // Prepare
    const attributes = { requestId: 'req-1', reason: '', ErrorCode: '90033' };

    // Act
    const sqsAttributes = toSqsAttributes(attributes);

    // Assess
    expect(sqsAttributes).toEqual({
      requestId: { DataType: 'String', StringValue: 'req-1' },
      ErrorCode: { DataType: 'String', StringValue: '90033' },
    });
  });

  it('sizes a message as SQS does: body, plus name, type and value of each attribute, in bytes', () => {
    // Prepare
    const message = { body: '中文', attributes: { rule: 'é' } };

    // Act
    const size = messageSize(message);

    // Assess
    expect(size).toBe(6 + 4 + 'String'.length + 2);
  });
});
