/**
 * SQS takes only #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF in bodies and attributes.
 * JSON.stringify already escapes control characters and lone surrogates, but writes U+FFFE and U+FFFF raw,
 * so a valid JSON value holding them could not be queued.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
const NON_CHARACTERS = /[\uFFFE\uFFFF]/g;
const escapeNonCharacter = (c: string): string => `\\u${c.charCodeAt(0).toString(16)}`;

/** JSON text SQS accepts: the same value, with U+FFFE/U+FFFF written as escapes. */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(NON_CHARACTERS, escapeNonCharacter);
}

// Characters SQS refuses, lone surrogates included (a pair matches the astral branch first).
const NOT_SQS_TEXT = /[\uD800-\uDBFF][\uDC00-\uDFFF]|[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/g;

/** Free text for an attribute: what SQS refuses becomes U+FFFD, cut at `maxChars` without splitting a pair. */
export function sqsSafeText(text: string, maxChars = 1000): string {
  const clean = text.replace(NOT_SQS_TEXT, (m) => (m.length === 2 ? m : '\uFFFD'));
  if (clean.length <= maxChars) return clean;
  const ellipsis = maxChars >= 6 ? '...' : '';
  let end = maxChars - ellipsis.length;
  const last = clean.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${clean.slice(0, end)}${ellipsis}`;
}
