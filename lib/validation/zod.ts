/**
 * zod for the deployed functions: the tree-shakable `zod/mini` build with its English messages.
 * Only the functions the code uses are imported by name: re-exporting the `zod/mini` namespace would keep all
 * of it in the bundle, every locale included (~430 KB and ~15 ms of cold start, bench/cold-start.bench.ts).
 * Every runtime schema imports zod from here.
 */
import {
  _default,
  array,
  boolean,
  check,
  coerce,
  config,
  enum as enumOf,
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
  type infer as Infer,
} from 'zod/mini';
// The English locale alone: the `zod/locales` index would bundle every language.
import en from 'zod/v4/locales/en.js';

config(en());

export const z = {
  _default,
  array,
  boolean,
  check,
  coerce,
  enum: enumOf,
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
};

/** The output type of a schema (zod's `z.infer`). */
export type ZodInfer<T> = Infer<T>;
