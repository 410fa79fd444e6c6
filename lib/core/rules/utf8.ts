/**
 * Whether `text` encodes to at most `maxBytes` UTF-8 bytes.
 *
 * Each UTF-16 code unit encodes to between 1 and 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 units;
 * a lone surrogate: 3 bytes for the replacement character), so short and long strings are decided from
 * their length alone and only the ambiguous middle is measured.
 */
export function fitsInUtf8Bytes(text: string, maxBytes: number): boolean {
  if (text.length * 3 <= maxBytes) return true;
  if (text.length > maxBytes) return false;
  return Buffer.byteLength(text, 'utf8') <= maxBytes;
}
