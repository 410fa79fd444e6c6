import { afterAll, afterEach, beforeAll } from 'vitest';
import { startStack, type Stack, type StackOptions } from './stack.ts';

/**
 * One local stack for a `describe` block: started before its tests, reset after each, closed at the end.
 * The returned value reads through to the started stack, so tests use it like the stack itself.
 */
export function useStack(options: StackOptions = {}): Stack {
  let started: Stack | undefined;
  const current = (): Stack => {
    if (started === undefined)
      throw new Error('useStack: the stack starts in beforeAll; use it inside tests and hooks');
    return started;
  };
  beforeAll(async () => {
    started = await startStack(options);
  });
  afterEach(() => current().reset());
  afterAll(() => current().close());
  return new Proxy<Stack>({} as Stack, { get: (_target, key) => Reflect.get(current(), key) as unknown });
}
