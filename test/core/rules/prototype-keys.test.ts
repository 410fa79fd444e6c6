import { afterEach, describe, expect, it } from 'vitest';
import { validateUsers } from '../../../lib/core/rules/validate-users.ts';

const DANGEROUS = ['__proto__', 'constructor', 'prototype'] as const;

// Parsed from text, as a real request is: JSON.parse makes `__proto__` an own property.
function parsed(text: string): unknown {
  return JSON.parse(text);
}

describe('prototype keys', () => {
  afterEach(() => {
    // A failing test must not leave the prototype polluted for the others.
    for (const key of ['polluted', 'To_Account', 'Attrs']) Reflect.deleteProperty(Object.prototype, key);
  });

  it.each(DANGEROUS)('treats an attribute named %s as an ordinary own name', (name) => {
    // Prepare
    const body = parsed(`{"UserAttrs":[{"To_Account":"u1","Attrs":{"${name}":"x","city":"Paris"}}]}`);

    // Act
    const result = validateUsers(body);

    // Assess
    const attrs = result.users[0]?.Attrs ?? {};
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.keys(attrs)).toEqual([name, 'city']);
    expect(Object.getOwnPropertyDescriptor(attrs, name)?.value).toBe('x');
    expect(JSON.stringify(result.users)).toBe(`[{"To_Account":"u1","Attrs":{"${name}":"x","city":"Paris"}}]`);
  });

  it('never pollutes Object.prototype, even through merged duplicates', () => {
    // Prepare
    const body = parsed(
      '{"UserAttrs":[{"To_Account":"u1","Attrs":{"__proto__":"x"}},' +
        '{"To_Account":"u1","Attrs":{"__proto__":"y","constructor":"z"}},' +
        '{"To_Account":"__proto__","Attrs":{"polluted":"yes"}}]}',
    );

    // Act
    const result = validateUsers(body);

    // Assess
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(result.users).toHaveLength(2);
    expect(Object.getOwnPropertyDescriptor(result.users[0]?.Attrs, '__proto__')?.value).toBe('y');
    expect(Object.getOwnPropertyDescriptor(result.users[0]?.Attrs, 'constructor')?.value).toBe('z');
    expect(result.users[1]).toEqual({ To_Account: '__proto__', Attrs: { polluted: 'yes' } });
  });

  it('rejects an attribute named __proto__ as unregistered when an allow-list exists', () => {
    // Prepare
    const body = parsed(
      '{"UserAttrs":[{"To_Account":"u1","Attrs":{"__proto__":"x"}},{"To_Account":"u2","Attrs":{"city":"Paris"}}]}',
    );

    // Act
    const result = validateUsers(body, { allowedNames: new Set(['city']) });

    // Assess
    expect(result.users).toEqual([{ To_Account: 'u2', Attrs: { city: 'Paris' } }]);
    expect(result.rejected).toEqual([
      {
        To_Account: 'u1',
        index: 0,
        path: 'UserAttrs[0].Attrs.__proto__',
        rule: 'attr-name-unregistered',
        message: expect.stringContaining('attr-name-unregistered'),
      },
    ]);
  });

  it('does not take To_Account or Attrs inherited from a polluted Object.prototype', () => {
    // Prepare
    Object.defineProperty(Object.prototype, 'To_Account', { value: 'intruder', configurable: true });
    Object.defineProperty(Object.prototype, 'Attrs', { value: { city: 'x' }, configurable: true });
    const body = { UserAttrs: [{}] };

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result.users).toEqual([]);
    expect(result.rejected.map((rejection) => rejection.rule)).toEqual(['to-account-required']);
  });
});
