import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitsInUtf8Bytes } from '../../../lib/core/rules/utf8.ts';

describe('fitsInUtf8Bytes', () => {
  it('agrees with Buffer.byteLength for every string and limit', () => {
    // Prepare
    const property = fc.property(
      fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })),
      fc.integer({ min: 0, max: 120 }),
      (text, maxBytes) => {
        // Act
        const fits = fitsInUtf8Bytes(text, maxBytes);

        // Assess
        expect(fits).toBe(Buffer.byteLength(text, 'utf8') <= maxBytes);
      },
    );

    // Act & Assess
    fc.assert(property, { seed: 7, numRuns: 2000 });
  });

  it('counts a lone surrogate as the 3 bytes of its replacement character', () => {
    // Prepare
    const lone = '\ud800'.repeat(17);

    // Act
    const fits = fitsInUtf8Bytes(lone, 50);

    // Assess
    expect(fits).toBe(false);
    expect(fitsInUtf8Bytes('\ud800'.repeat(16), 50)).toBe(true);
  });
});
