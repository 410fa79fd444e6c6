import { describe, expect, it } from 'vitest';
import { RequestShapeError } from '../../../lib/core/errors.ts';
import { parseUserAttrsEnvelope } from '../../../lib/core/rules/schemas.ts';

describe('the request envelope (zod)', () => {
  it('refuses a body without a UserAttrs array in the envelope parse', () => {
    // Prepare
    const body = { UserAttrs: 'u1' };

    // Act
    const act = (): unknown => parseUserAttrsEnvelope(body);

    // Assess
    expect(act).toThrow(RequestShapeError);
    expect(act).toThrow(expect.objectContaining({ rule: 'user-attrs-must-be-array', path: 'UserAttrs' }));
  });
});
