import { describe, expect, it } from 'vitest';
import { RequestShapeError } from '../../../lib/core/errors.ts';
import { validateUsers } from '../../../lib/core/rules/validate-users.ts';

function shapeErrorOf(body: unknown): RequestShapeError {
  try {
    validateUsers(body);
  } catch (error) {
    if (error instanceof RequestShapeError) return error;
    throw error;
  }
  throw new Error('validateUsers did not throw');
}

describe('validateUsers request shape', () => {
  it.each([
    ['null', null],
    ['a string', '{"UserAttrs":[]}'],
    ['an array', [{ To_Account: 'u1', Attrs: { a: 'b' } }]],
    ['a number', 1],
  ])('refuses a body that is %s as a whole', (_label, body) => {
    // Prepare
    const input: unknown = body;

    // Act
    const error = shapeErrorOf(input);

    // Assess
    expect(error.name).toBe('RequestShapeError');
    expect(error.rule).toBe('body-must-be-object');
    expect(error.path).toBe('');
    expect(error.message).toBe('The request body must be a JSON object [body-must-be-object].');
    expect(error.cause).toBeDefined();
  });

  it.each([
    ['missing', {}],
    ['an object', { UserAttrs: { 0: { To_Account: 'u1', Attrs: { a: 'b' } } } }],
    ['null', { UserAttrs: null }],
    ['misspelled', { userAttrs: [] }],
  ])('refuses a body whose UserAttrs is %s as a whole', (_label, body) => {
    // Prepare
    const input: unknown = body;

    // Act
    const error = shapeErrorOf(input);

    // Assess
    expect(error.rule).toBe('user-attrs-must-be-array');
    expect(error.path).toBe('UserAttrs');
    expect(error.message).toContain('UserAttrs');
  });

  it('accepts an empty UserAttrs array with nothing to send', () => {
    // Prepare
    const body = { UserAttrs: [] };

    // Act
    const result = validateUsers(body);

    // Assess
    expect(result).toEqual({ users: [], rejected: [], received: 0 });
  });
});
