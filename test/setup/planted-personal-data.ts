/**
 * Personal data planted in test requests and queue messages. The suite-wide scan fails the run when any of
 * them reaches a log line or an answer: answers and logs may name a rejected user's To_Account and field
 * path, never a value or a piece of a body.
 */
export const PLANTED_PERSONAL = {
  /** An attribute value, as a producer might sync a home address (≤ 50 bytes: a valid value). */
  attrValue: 'Mallory Lane 17 flat 4',
  /** A value over 50 bytes that starts with the planted value: rejected, and its reason must not quote it. */
  longValue: `Mallory Lane 17 flat 4 ${'north wing '.repeat(4)}`,
  /** A piece of a body that is not valid JSON: short, because V8's parse error quotes about 10 characters of it. */
  bodyFragment: 'tel+33612',
} as const;
