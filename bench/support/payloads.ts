/**
 * Deterministic request bodies of a given size for benchmarks: valid users with the registered attribute
 * names, values padded so `count` users weigh close to (never over) `maxBytes`.
 */
import type { UserAttr } from '../../lib/core/rules/types.ts';

/** Options of {@link sizedUsers}. */
export interface SizedUsersOptions {
  readonly count: number;
  /** The body `{"UserAttrs":[...]}` stays at or under this many bytes. */
  readonly maxBytes: number;
  /** `To_Account` prefix, so bodies of different runs or producers do not share users. Default `bench`. */
  readonly prefix?: string;
}

const MAX_VALUE_BYTES = 50;
const BASE_VALUE = 'v';

function user(prefix: string, i: number, padding: number): UserAttr {
  // The padding goes into two values so that neither passes IM's 50-byte limit.
  const city = `c${i % 97}-`.padEnd(Math.min(MAX_VALUE_BYTES, 4 + padding), 'x');
  const langPadding = Math.max(0, padding - (city.length - 4));
  return {
    To_Account: `${prefix}-${i.toString().padStart(7, '0')}`,
    Attrs: {
      sex: i % 2 === 0 ? 'f' : 'm',
      city,
      tier: `t${i % 5}`,
      lang: BASE_VALUE.padEnd(Math.min(MAX_VALUE_BYTES, 1 + langPadding), 'y'),
    },
  };
}

/** A `{"UserAttrs":[...]}` body of `count` users at or just under `maxBytes`; throws if they cannot fit. */
export function sizedUsersBody(options: SizedUsersOptions): string {
  const { count, maxBytes, prefix = 'bench' } = options;
  const bodyOf = (padding: number) =>
    JSON.stringify({ UserAttrs: Array.from({ length: count }, (_, i) => user(prefix, i, padding)) });
  const bare = Buffer.byteLength(bodyOf(0));
  if (bare > maxBytes) throw new RangeError(`${count} users need at least ${bare} bytes, over ${maxBytes}`);
  const padding = Math.min(2 * MAX_VALUE_BYTES - 8, Math.floor((maxBytes - bare) / count));
  return bodyOf(padding);
}
