/**
 * Sets `name` as an own, enumerable data property of a plain object, whatever the name.
 *
 * Plain assignment does that for every key except `__proto__`, whose assignment on a `{}` would replace
 * the object's prototype instead: that key alone is defined (as `Object.fromEntries` would). Faster than
 * building entry pairs for `Object.fromEntries`, which matters at 100,000 users per request.
 */
export function setOwn<V>(target: Record<string, V>, name: string, value: V): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[name] = value;
  }
}
