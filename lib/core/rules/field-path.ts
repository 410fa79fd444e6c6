/** A location inside one `UserAttrs` entry, e.g. `['Attrs', 'city']`. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
// A path names the field for a human; an over-long name would flood logs without helping anyone.
const MAX_NAME_CHARS_IN_PATH = 64;

function formatSegment(segment: PathSegment): string {
  if (typeof segment === 'number') return `[${segment}]`;
  if (segment.length <= MAX_NAME_CHARS_IN_PATH && IDENTIFIER.test(segment)) return `.${segment}`;
  const shown = segment.length > MAX_NAME_CHARS_IN_PATH ? `${segment.slice(0, MAX_NAME_CHARS_IN_PATH)}…` : segment;
  return `[${JSON.stringify(shown)}]`;
}

/**
 * Formats a field path in the body, e.g. `UserAttrs[3].Attrs.city`, `UserAttrs[5].To_Account` or
 * `UserAttrs[2].Attrs["home city"]`.
 */
export function formatFieldPath(segments: readonly PathSegment[]): string {
  let path = '';
  for (const segment of segments) path += formatSegment(segment);
  return path.startsWith('.') ? path.slice(1) : path;
}
