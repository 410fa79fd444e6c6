/**
 * zod for the deployed functions: the tree-shakable `zod/mini` build with its English messages.
 * Measured: importing full zod adds ~24 ms to a function's cold start, `zod/mini` ~2 ms
 * (bench/cold-start.bench.ts and bench/README.md). Every runtime schema imports zod from here.
 */
import { config } from 'zod/mini';
// The English messages alone: `zod/locales` pulls every language into the bundle.
import en from 'zod/v4/locales/en.js';

config(en());

export * as z from './zod-mini-subset.ts';
