import { describe, expect, it } from 'vitest';
import { useStack } from '../helpers/use-stack.ts';
import { ATTR_NAMES } from '../helpers/factories.ts';
import { jsonOf, runTimAttr } from './cli-harness.ts';

describe('tim-attr names', () => {
  const stack = useStack();

  it("lists the app's ten slots, free ones included", async () => {
    // Act
    const run = await runTimAttr(stack, ['names', '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toEqual({
      slots: Array.from({ length: 10 }, (_, slot) => ({ slot, name: ATTR_NAMES[slot] ?? null })),
    });
    const table = await runTimAttr(stack, ['names']);
    expect(table.stdout).toMatch(/│ 3\s+│ lang\s+│/);
    expect(table.stdout).toMatch(/│ 9\s+│ \(free\)\s+│/);
  });

  it('names free slots without asking, even without a terminal', async () => {
    // Act
    const run = await runTimAttr(stack, ['names', 'set', '6=plan', '7=region']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/│ 6\s+│ \(free\)\s+│ plan\s+│ add\s+│/);
    expect(stack.emulator.attrNames()).toEqual([...ATTR_NAMES, 'plan', 'region']);
  });

  it('refuses a rename without a terminal to ask, naming --yes, and changes nothing', async () => {
    // Act
    const run = await runTimAttr(stack, ['names', 'set', '1=town']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/│ 1\s+│ city\s+│ town\s+│ rename\s+│/);
    expect(run.stderr).toContain('renaming slot 1 "city" → "town" needs confirmation');
    expect(run.stderr).toContain('--yes');
    expect(stack.emulator.attrNames()).toContain('city');
  });

  it('asks before a rename and keeps the slot when the answer is no', async () => {
    // Act
    const run = await runTimAttr(stack, ['names', 'set', '2=level'], { tty: true, stdin: 'n\n' });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Rename slot 2 "tier" → "level"?');
    expect(run.stderr).toContain('Nothing changed.');
    expect(stack.emulator.attrNames()).toContain('tier');
  });

  it('renames after a yes, or with --yes', async () => {
    // Act
    const asked = await runTimAttr(stack, ['names', 'set', '8=a'], { tty: true, stdin: 'y\n' });
    const renamed = await runTimAttr(stack, ['names', 'set', '8=b'], { tty: true, stdin: 'yes\n' });
    const forced = await runTimAttr(stack, ['names', 'set', '8=c', '--yes']);

    // Assess
    expect(asked.stderr).not.toContain('Rename');
    expect(renamed.code).toBe(0);
    expect(renamed.stderr).toContain('Rename slot 8 "a" → "b"?');
    expect(forced.code).toBe(0);
    expect(forced.stderr).not.toContain('Rename');
    expect(stack.emulator.attrNames()).toContain('c');
    expect(stack.emulator.attrNames()).not.toContain('b');
  });

  it.each([
    { args: ['10=x'], rule: 'slot-range-0-9', says: 'slot 10 (in "10=x") must be 0–9' },
    { args: ['sex'], rule: 'slot-assignment-format', says: '"sex" must be SLOT=NAME' },
    { args: [`9=${'名'.repeat(17)}`], rule: 'attr-name-max-50-bytes', says: 'slot 9: the name is 51 bytes' },
    { args: ['9='], rule: 'attr-name-required', says: 'slot 9: the name must not be empty' },
    { args: ['9=city'], rule: 'attr-name-duplicate', says: 'the name "city" would be in slots 1 and 9' },
    { args: ['8=x', '9=x'], rule: 'attr-name-duplicate', says: 'the name "x" would be in slots 8 and 9' },
    { args: ['9=x', '9=y'], rule: 'slot-named-twice', says: 'slot 9 is named twice' },
    {
      args: Array.from({ length: 11 }, (_, i) => `${i % 10}=n${i}`),
      rule: 'max-10-slots',
      says: 'at most 10 slots can be named',
    },
  ])('refuses $rule with exit 2 and a message naming it, before calling IM', async ({ args, rule, says }) => {
    // Prepare
    const before = stack.emulator.attrNames();
    stack.emulator.resetCounters();

    // Act
    const run = await runTimAttr(stack, ['names', 'set', ...args, '--yes']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(says);
    expect(run.stderr).toContain(`[${rule}]`);
    expect(stack.emulator.counters.callsByCommand.get('im_set_attr_name') ?? 0).toBe(0);
    expect(stack.emulator.attrNames()).toEqual(before);
  });
});
