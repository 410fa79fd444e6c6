import * as z from '../../validation/zod.ts';
import { formatFieldPath, type PathSegment } from './field-path.ts';
import { RequestShapeError } from '../errors.ts';
import { isUserRule, ruleMessage } from './rule-messages.ts';
import type { RequestShapeRule } from './types.ts';

/**
 * The envelope of an `im_set_attr` body: an object with a `UserAttrs` array whose entries are checked
 * one by one later (so one bad user does not sink the others). Other keys are dropped.
 */
export const userAttrsEnvelopeSchema = z.object({ UserAttrs: z.array(z.unknown()) });

/** The error a failed parse carries. */
type ParseError = NonNullable<ReturnType<typeof userAttrsEnvelopeSchema.safeParse>['error']>;

function shapeError(error: ParseError): RequestShapeError {
  const issue = error.issues[0];
  const segments = (issue?.path ?? []).filter(
    (key): key is PathSegment => typeof key === 'string' || typeof key === 'number',
  );
  const path = formatFieldPath(segments);
  const params: unknown = issue !== undefined && 'params' in issue ? issue.params : undefined;
  const rule: unknown = typeof params === 'object' && params !== null && 'rule' in params ? params.rule : undefined;
  if (isUserRule(rule)) {
    // The issue's own message is relative to the entry; the error names the full path.
    const detail: unknown =
      typeof params === 'object' && params !== null && 'detail' in params ? params.detail : undefined;
    const sentence = ruleMessage(path, rule, typeof detail === 'string' ? detail : undefined);
    return new RequestShapeError(path, rule, sentence, { cause: error });
  }
  const shapeRule: RequestShapeRule = segments.length === 0 ? 'body-must-be-object' : 'user-attrs-must-be-array';
  return new RequestShapeError(path, shapeRule, ruleMessage(path, shapeRule), { cause: error });
}

/**
 * Reads the envelope of a request: the body must be an object holding a `UserAttrs` array.
 *
 * @throws RequestShapeError (`body-must-be-object` or `user-attrs-must-be-array`) otherwise.
 */
export function parseUserAttrsEnvelope(body: unknown): { readonly UserAttrs: readonly unknown[] } {
  const result = userAttrsEnvelopeSchema.safeParse(body);
  if (!result.success) throw shapeError(result.error);
  return result.data;
}
