/**
 * The parts of `zod/mini` the runtime schemas use, by name. Re-exporting the whole module as a namespace
 * would keep every export in the bundle, its `locales` (every language, ~400 KB minified) included.
 */
export { _default, array, coerce, enum, gte, int, lte, maxLength, minLength, object, optional, pipe, positive, startsWith, string, transform, unknown, url } from 'zod/mini';
export type { infer } from 'zod/mini';
