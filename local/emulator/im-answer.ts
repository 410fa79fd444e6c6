import { defaultErrorInfo } from './error-codes.ts';
import type { ImErrorCodeValue } from './error-codes.ts';

/** The IM-level outcome of a command, before it is serialised. */
export interface ImAnswer {
  readonly code: number;
  readonly info?: string;
  /** Command-specific fields, e.g. `UserAttrs` or `ErrorList`. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** A failing answer with the code's default (or given) ErrorInfo. */
export function fail(code: ImErrorCodeValue, info?: string): ImAnswer {
  return { code, info: info ?? defaultErrorInfo[code] };
}

/** The body every IM answer has: `{"ActionStatus","ErrorInfo","ErrorCode", ...fields}`. */
export function serializeAnswer(answer: ImAnswer): string {
  const info = answer.info ?? (defaultErrorInfo as Readonly<Record<number, string>>)[answer.code] ?? '';
  return JSON.stringify({
    ActionStatus: answer.code === 0 ? 'OK' : 'FAIL',
    ErrorInfo: info,
    ErrorCode: answer.code,
    ...answer.fields,
  });
}
