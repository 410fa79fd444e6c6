import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkUser } from '../../lib/rules/check-user.ts';
import { RequestShapeError } from '../../lib/rules/request-shape-error.ts';
import { parseUserAttrsBody, parseUserAttrsEnvelope, userAttrSchema } from '../../lib/rules/schemas.ts';
import { bodyOf, cjk, userEntry } from './factories.ts';
import { userEntryArbitrary } from './arbitraries.ts';

describe('zod schemas', () => {
  it('parses a valid body strictly and drops unknown keys', () => {
    // Prepare
    const body = { ...bodyOf(userEntry('u1', { city: cjk(16) })), Other: 1 };

    // Act
    const parsed = parseUserAttrsBody(body);

    // Assess
    expect(parsed).toEqual({ UserAttrs: [{ To_Account: 'u1', Attrs: { city: cjk(16) } }] });
  });

  it('refuses a whole body when one user breaks a rule, naming the first fault', () => {
    // Prepare
    const body = bodyOf(userEntry('u1', { city: 'Paris' }), userEntry('u2', { city: cjk(17) }));

    // Act
    const act = (): unknown => parseUserAttrsBody(body);

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'RequestShapeError',
        path: 'UserAttrs[1].Attrs.city',
        rule: 'value-max-50-bytes',
        message: 'UserAttrs[1].Attrs.city must be at most 50 bytes in UTF-8 (it is 51 bytes) [value-max-50-bytes].',
      }),
    );
  });

  it('refuses a body without a UserAttrs array in the envelope parse', () => {
    // Prepare
    const body = { UserAttrs: 'u1' };

    // Act
    const act = (): unknown => parseUserAttrsEnvelope(body);

    // Assess
    expect(act).toThrow(RequestShapeError);
    expect(act).toThrow(expect.objectContaining({ rule: 'user-attrs-must-be-array', path: 'UserAttrs' }));
  });

  it('agrees with the fast per-user check on every entry', () => {
    // Prepare
    const property = fc.property(userEntryArbitrary, (entry) => {
      // Act
      const zodResult = userAttrSchema.safeParse(entry);
      const fastResult = checkUser(entry);

      // Assess
      expect(zodResult.success).toBe(fastResult.ok);
      if (zodResult.success && fastResult.ok) expect(zodResult.data).toEqual(fastResult.user);
      if (!zodResult.success && !fastResult.ok) {
        const issue = zodResult.error.issues[0];
        const params = issue !== undefined && 'params' in issue ? issue.params : undefined;
        expect(params).toMatchObject({ rule: fastResult.fault.rule });
      }
    });

    // Act & Assess
    fc.assert(property, { seed: 20240611, numRuns: 500 });
  });
});
