import type { Command } from 'commander';
import { withCommonOptions } from '../common-options.ts';
import { confirm } from '../confirm.ts';
import type { CliContext, CommonOptions } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import type { OutputStream } from '../io.ts';
import { parseAssignments, planSlots, SLOT_COUNT, type SlotDiff } from '../names/slot-plan.ts';
import { renderTable, writeJson, writeLine } from '../output.ts';

interface SetOptions extends CommonOptions {
  readonly yes?: boolean;
}

function slotRows(slots: ReadonlyMap<number, string>): { slot: number; name: string | null }[] {
  return Array.from({ length: SLOT_COUNT }, (_, slot) => ({ slot, name: slots.get(slot) ?? null }));
}

function printSlots(ctx: CliContext, slots: ReadonlyMap<number, string>): void {
  writeLine(
    ctx.io.stdout,
    renderTable(
      ['slot', 'name'],
      slotRows(slots).map((r) => [r.slot, r.name ?? '(free)']),
    ),
  );
}

function printDiff(stream: OutputStream, diff: readonly SlotDiff[]): void {
  writeLine(
    stream,
    renderTable(
      ['slot', 'now', 'after', 'change'],
      diff.map((d) => [d.slot, d.current ?? '(free)', d.next, d.change]),
    ),
  );
}

/** `tim-attr names` and `tim-attr names set`. */
export function registerNames(program: Command, ctx: CliContext): void {
  const names = withCommonOptions(program.command('names'))
    .description("show the app's attribute slots (im_get_attr_name)")
    .addHelpText(
      'after',
      '\nExample:\n  tim-attr names\n  tim-attr names --json\n  tim-attr names --stage prod --region ap-southeast-1\n',
    )
    .action(async (options: CommonOptions) => {
      const im = await ctx.im(options);
      const slots = await im.getAttrNameSlots();
      if (options.json === true) writeJson(ctx.io.stdout, { slots: slotRows(slots) });
      else printSlots(ctx, slots);
    });

  withCommonOptions(names.command('set'))
    .description(
      'name attribute slots (im_set_attr_name); asks before renaming a slot, since a rename changes push targeting',
    )
    .argument('<assignments...>', 'SLOT=NAME pairs, slots 0–9, names of at most 50 bytes, each name in one slot')
    .option('-y, --yes', 'rename without asking')
    .addHelpText(
      'after',
      '\nExamples:\n  tim-attr names set 4=plan 5=region      # free slots: no question\n  tim-attr names set 1=town --yes         # renames slot 1 without asking\n',
    )
    .action(async (args: string[], options: SetOptions) => {
      const assignments = parseAssignments(args);
      const im = await ctx.im(options);
      const current = await im.getAttrNameSlots();
      const diff = planSlots(current, assignments);
      const changes = diff.filter((d) => d.change !== 'unchanged');
      const renames = changes.filter((d) => d.change === 'rename');
      if (options.json !== true) printDiff(ctx.io.stdout, diff);
      if (changes.length === 0) {
        if (options.json === true)
          writeJson(ctx.io.stdout, { changes: diff, applied: false, slots: slotRows(current) });
        else writeLine(ctx.io.stdout, 'Nothing to change.');
        return;
      }
      if (renames.length > 0 && options.yes !== true) {
        const which = renames.map((d) => `slot ${d.slot} "${d.current ?? ''}" → "${d.next}"`).join(', ');
        const question = `Rename ${which}? Pushes that target the old name stop reaching these users, and values stored under it are no longer read.`;
        // With --json stdout stays one JSON document; the person asked still sees the change.
        if (options.json === true) printDiff(ctx.io.stderr, diff);
        if (!(await confirm(ctx.io, question, `renaming ${which} needs confirmation`))) {
          writeLine(ctx.io.stderr, 'Nothing changed.');
          ctx.fail(EXIT.failed);
          return;
        }
      }
      await im.setAttrNames(Object.fromEntries(changes.map((d) => [String(d.slot), d.next])));
      const after = await im.getAttrNameSlots();
      if (options.json === true) writeJson(ctx.io.stdout, { changes: diff, applied: true, slots: slotRows(after) });
      else {
        writeLine(ctx.io.stdout, `Set ${changes.length} slot(s). The slots now:`);
        printSlots(ctx, after);
      }
    });
}
