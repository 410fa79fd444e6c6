import { MAX_ACCOUNT_BYTES, MAX_ATTR_NAME_BYTES, MAX_ATTR_NAMES, MAX_VALUE_BYTES } from './constants.ts';
import type { RequestShapeRule, UserRule } from './types.ts';

// What each rule demands, phrased to follow the field path in a sentence.
const DEMANDS: Readonly<Record<UserRule | RequestShapeRule, string>> = {
  'body-must-be-object': 'must be a JSON object',
  'user-attrs-must-be-array': 'must be an array of users',
  'user-tags-must-be-array': 'must be an array of users (or, for a remove-all, To_Account an array of accounts)',
  'user-must-be-object': 'must be an object with To_Account and Attrs',
  'to-account-required': 'is required and must not be empty',
  'to-account-must-be-string': 'must be a string',
  'to-account-max-32-bytes': `must be at most ${MAX_ACCOUNT_BYTES} bytes in UTF-8`,
  'attrs-required': 'is required',
  'attrs-must-be-object': 'must be an object of attribute names to values',
  'attrs-must-not-be-empty': 'must hold at least one attribute',
  'attrs-max-10-names': `must hold at most ${MAX_ATTR_NAMES} attribute names`,
  'attr-name-required': 'must have a non-empty attribute name',
  'attr-name-max-50-bytes': `must have a name of at most ${MAX_ATTR_NAME_BYTES} bytes in UTF-8`,
  'attr-name-unregistered': 'is not an attribute name registered for the app',
  'value-must-be-string': 'must be a string, or null to remove the attribute',
  'value-max-50-bytes': `must be at most ${MAX_VALUE_BYTES} bytes in UTF-8`,
};

const SHAPE_RULES: ReadonlySet<string> = new Set<RequestShapeRule>([
  'body-must-be-object',
  'user-attrs-must-be-array',
  'user-tags-must-be-array',
]);

/** Whether `value` is the name of a per-user rule. */
export function isUserRule(value: unknown): value is UserRule {
  return typeof value === 'string' && Object.hasOwn(DEMANDS, value) && !SHAPE_RULES.has(value);
}

/**
 * A sentence naming the field and the rule, e.g.
 * `UserAttrs[3].Attrs.city must be at most 50 bytes in UTF-8 (it is 51) [value-max-50-bytes].`
 * Values themselves are never quoted: they may be personal data.
 */
export function ruleMessage(path: string, rule: UserRule | RequestShapeRule, detail?: string): string {
  const subject = path === '' ? 'The request body' : path;
  const extra = detail === undefined ? '' : ` (${detail})`;
  return `${subject} ${DEMANDS[rule]}${extra} [${rule}].`;
}
