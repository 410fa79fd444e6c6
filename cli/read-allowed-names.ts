import type { CliContext, CommonOptions } from './context.ts';
import { describeError } from './describe-error.ts';
import { writeLine } from './output.ts';

/**
 * The app's registered names, as the gateway's rules need them: `--attr-names` or `ATTR_NAMES` (as the gateway
 * takes it), else read from IM. When IM cannot be asked, names are not checked here, as the gateway does then too.
 */
export async function readAllowedNames(
  ctx: CliContext,
  options: CommonOptions & { readonly attrNames?: string },
): Promise<ReadonlySet<string> | undefined> {
  const given = options.attrNames ?? ctx.io.env['ATTR_NAMES'];
  if (given !== undefined && given.trim() !== '')
    return new Set(
      given
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
    );
  try {
    const im = await ctx.im(options);
    return new Set(await im.getAttrNames());
  } catch (error: unknown) {
    writeLine(
      ctx.io.stderr,
      `warning: the app's attribute names could not be read from IM (${describeError(error)}); names are not checked here, the gateway checks them`,
    );
    return undefined;
  }
}
