import { MAX_ACCOUNT_BYTES, MAX_ATTR_NAME_BYTES, MAX_ATTR_NAMES, MAX_VALUE_BYTES } from './constants.ts';
import type { PathSegment } from './field-path.ts';
import { setOwn } from './own-record.ts';
import type { AttrValue, UserRule, UserUpdate } from './types.ts';
import { fitsInUtf8Bytes } from './utf8.ts';

/** Why one `UserAttrs` entry was refused; the path is relative to the entry. */
export interface UserFault {
  readonly account: string | null;
  readonly path: readonly PathSegment[];
  readonly rule: UserRule;
  readonly detail?: string;
}

/** The outcome of `checkUser`. */
export type UserCheck =
  { readonly ok: true; readonly user: UserUpdate } | { readonly ok: false; readonly fault: UserFault };

/**
 * A plain object: what `JSON.parse` builds for `{...}`. Arrays, `null`, class instances and boxed values
 * are not.
 */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function reject(account: string | null, path: readonly PathSegment[], rule: UserRule, detail?: string): UserCheck {
  return { ok: false, fault: detail === undefined ? { account, path, rule } : { account, path, rule, detail } };
}

function byteDetail(text: string): string {
  return `it is ${Buffer.byteLength(text, 'utf8')} bytes`;
}

/**
 * Checks one `UserAttrs` entry against every per-user rule (a `null` value, meaning removal, passes) and reports the first fault, account first,
 * then the attributes in their order. A valid entry comes back rebuilt as a fresh `UserAttr`: keys
 * other than `To_Account` and `Attrs` are dropped, and nothing of the input object is shared.
 *
 * A hand-written check rather than a zod schema: it runs once per user on batches of up to 100,000 users
 * and must stay within a small multiple of `JSON.parse` (see `bench/cpu.bench.ts`). It reads own
 * properties only, so a polluted `Object.prototype` cannot inject an account or attributes, and an
 * attribute named `__proto__`, `constructor` or `prototype` is an ordinary name here.
 */
export function checkUser(entry: unknown, allowedNames?: ReadonlySet<string>): UserCheck {
  // A null value asks for the attribute's removal; every other value must be a string.
  if (!isPlainRecord(entry)) return reject(null, [], 'user-must-be-object');

  const account = Object.hasOwn(entry, 'To_Account') ? entry.To_Account : undefined;
  if (account === undefined || account === null || account === '') {
    return reject(typeof account === 'string' ? account : null, ['To_Account'], 'to-account-required');
  }
  if (typeof account !== 'string') {
    return reject(null, ['To_Account'], 'to-account-must-be-string', `it is ${describeType(account)}`);
  }
  if (!fitsInUtf8Bytes(account, MAX_ACCOUNT_BYTES)) {
    return reject(account, ['To_Account'], 'to-account-max-32-bytes', byteDetail(account));
  }

  const attrs = Object.hasOwn(entry, 'Attrs') ? entry.Attrs : undefined;
  if (attrs === undefined || attrs === null) return reject(account, ['Attrs'], 'attrs-required');
  if (!isPlainRecord(attrs)) {
    return reject(account, ['Attrs'], 'attrs-must-be-object', `it is ${describeType(attrs)}`);
  }
  const names = Object.keys(attrs);
  if (names.length === 0) return reject(account, ['Attrs'], 'attrs-must-not-be-empty');
  if (names.length > MAX_ATTR_NAMES) {
    return reject(account, ['Attrs'], 'attrs-max-10-names', `it has ${names.length}`);
  }

  // A fresh plain object holding own data properties only, built as the names pass.
  const checked: Record<string, AttrValue> = {};
  for (const name of names) {
    if (name === '') return reject(account, ['Attrs', name], 'attr-name-required');
    if (!fitsInUtf8Bytes(name, MAX_ATTR_NAME_BYTES)) {
      return reject(account, ['Attrs', name], 'attr-name-max-50-bytes', byteDetail(name));
    }
    if (allowedNames !== undefined && !allowedNames.has(name)) {
      return reject(account, ['Attrs', name], 'attr-name-unregistered');
    }
    // `name` is an own key (from Object.keys), so this reads the own value even for `__proto__`.
    const value = attrs[name];
    if (value === null) {
      setOwn(checked, name, null);
      continue;
    }
    if (typeof value !== 'string') {
      return reject(account, ['Attrs', name], 'value-must-be-string', `it is ${describeType(value)}`);
    }
    if (!fitsInUtf8Bytes(value, MAX_VALUE_BYTES)) {
      return reject(account, ['Attrs', name], 'value-max-50-bytes', byteDetail(value));
    }
    setOwn(checked, name, value);
  }
  return { ok: true, user: { To_Account: account, Attrs: checked } };
}

/** A JSON-ish type name for messages: `null`, `an array`, `a number`... */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}
