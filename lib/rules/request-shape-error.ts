import type { RequestShapeRule, UserRule } from './types.ts';

/**
 * The whole request is unusable: the body is not an object, or it has no `UserAttrs` array (or, for the
 * strict `parseUserAttrsBody`, one of its users breaks a rule). Distinct from a per-user `Rejection`,
 * which leaves the other users of the request going on.
 */
export class RequestShapeError extends Error {
  /** Where the fault is, e.g. `UserAttrs` or `UserAttrs[3].Attrs.city`; empty for the body itself. */
  readonly path: string;
  /** The stable rule name, e.g. `user-attrs-must-be-array`. */
  readonly rule: RequestShapeRule | UserRule;

  constructor(
    path: string,
    rule: RequestShapeRule | UserRule,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RequestShapeError';
    this.path = path;
    this.rule = rule;
  }
}
