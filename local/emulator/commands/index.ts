import { getAttr } from './get-attr.ts';
import { getAttrName } from './get-attr-name.ts';
import { removeAttr } from './remove-attr.ts';
import { setAttr } from './set-attr.ts';
import { setAttrName } from './set-attr-name.ts';
import { addTag, getTag, removeAllTags, removeTag } from './tags.ts';
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
  ['im_add_tag', addTag],
  ['im_remove_tag', removeTag],
  ['im_remove_all_tags', removeAllTags],
  ['im_get_tag', getTag],
]);

export type { Command, CommandContext, CommandResult } from './types.ts';
