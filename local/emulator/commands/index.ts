import { getAttr } from './get-attr.ts';
import { getAttrName } from './get-attr-name.ts';
import { removeAttr } from './remove-attr.ts';
import { setAttr } from './set-attr.ts';
import { setAttrName } from './set-attr-name.ts';
import type { Command } from './types.ts';

/** The service every emulated command lives under. */
export const SERVICE_PATH = '/v4/all_member_push/';

/** Command name (last path segment) → implementation. */
export const commands: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['im_set_attr', setAttr],
  ['im_set_attr_name', setAttrName],
  ['im_get_attr_name', getAttrName],
  ['im_get_attr', getAttr],
  ['im_remove_attr', removeAttr],
]);

export type { Command, CommandContext, CommandResult } from './types.ts';
