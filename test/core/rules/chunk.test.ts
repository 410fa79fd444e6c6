import { describe, expect, it } from 'vitest';
import { chunk } from '../../../lib/core/rules/chunk.ts';
import { MAX_USERS_PER_CALL } from '../../../lib/core/rules/constants.ts';

function numbers(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

describe('chunk', () => {
  it.each([
    [0, []],
    [1, [1]],
    [100, [100]],
    [101, [100, 1]],
    [250, [100, 100, 50]],
  ])('splits %i items into groups of sizes %j by default', (count, sizes) => {
    // Prepare
    const items = numbers(count);

    // Act
    const groups = chunk(items);

    // Assess
    expect(groups.map((group) => group.length)).toEqual(sizes);
    expect(groups.flat()).toEqual(items);
  });

  it('defaults to MAX_USERS_PER_CALL and honours a custom size', () => {
    // Prepare
    const items = numbers(7);

    // Act
    const groups = chunk(items, 3);

    // Assess
    expect(MAX_USERS_PER_CALL).toBe(100);
    expect(groups).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses the size %d', (size) => {
    // Prepare
    const items = numbers(3);

    // Act
    const act = (): unknown => chunk(items, size);

    // Assess
    expect(act).toThrow(RangeError);
  });

  it('does not change its input', () => {
    // Prepare
    const items = numbers(5);

    // Act
    const groups = chunk(items, 2);
    groups[0]?.push(99);

    // Assess
    expect(items).toEqual([0, 1, 2, 3, 4]);
  });
});
