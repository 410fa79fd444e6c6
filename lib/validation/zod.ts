/**
 * zod for the deployed functions: the tree-shakable `zod/mini` build with its English messages.
 * Measured: importing full zod adds ~24 ms to a function's cold start, `zod/mini` ~2 ms
 * (bench/cold-start.bench.ts and bench/README.md). Every runtime schema imports zod from here.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';

z.config(en());

export { z };
