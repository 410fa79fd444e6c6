/**
 * zod for the deployed functions: the tree-shakable `zod/mini` build with its English messages. Import it as
 * `import * as z from '…/validation/zod.ts'`. Only the functions the code uses are re-exported, by name: a
 * re-export of the whole `zod/mini` namespace as one value kept all of it in the bundle, every locale included
 * (~430 KB and ~15 ms of cold start, bench/cold-start.bench.ts). Every runtime schema imports zod from here.
 */
import { config } from 'zod/mini';
// The English locale alone: the `zod/locales` index would bundle every language.
import en from 'zod/v4/locales/en.js';

config(en());

export {
  _default,
  array,
  boolean,
  check,
  coerce,
  enum,
  gt,
  gte,
  int,
  literal,
  lte,
  maxLength,
  minLength,
  nullable,
  number,
  object,
  optional,
  pipe,
  positive,
  refine,
  regex,
  startsWith,
  string,
  transform,
  union,
  unknown,
  url,
} from 'zod/mini';
export type { infer } from 'zod/mini';
