/** One user's attributes, in IM's own `im_set_attr` shape. */
export interface UserAttr {
  readonly To_Account: string;
  readonly Attrs: Readonly<Record<string, string>>;
}

/** An attribute's new value; `null` removes the attribute (`im_remove_attr`). */
export type AttrValue = string | null;

/**
 * One user's update as the gateway accepts it: IM's `im_set_attr` entry, where a `null` value means
 * "remove this attribute".
 */
export interface UserUpdate {
  readonly To_Account: string;
  readonly Attrs: Readonly<Record<string, AttrValue>>;
}

/** A user refused by the request rules, reported on its own while the valid users go on. */
export interface Rejection {
  /** The user's account when it could be read, otherwise null. */
  readonly To_Account: string | null;
  /** The entry's position in `UserAttrs`, so the original entry can be reported or dead-lettered as sent. */
  readonly index: number;
  /** Where the fault is, e.g. `UserAttrs[3].Attrs.city`. */
  readonly path: string;
  /** A stable machine-readable rule name, e.g. `value-max-50-bytes`. */
  readonly rule: string;
  /** A human sentence naming the field and the rule. */
  readonly message: string;
}

/** Stable names of the rules that reject one user while the rest of the request goes on. */
export type UserRule =
  | 'user-must-be-object'
  | 'to-account-required'
  | 'to-account-must-be-string'
  | 'to-account-max-32-bytes'
  | 'attrs-required'
  | 'attrs-must-be-object'
  | 'attrs-must-not-be-empty'
  | 'attrs-max-10-names'
  | 'attr-name-required'
  | 'attr-name-max-50-bytes'
  | 'attr-name-unregistered'
  | 'value-must-be-string'
  | 'value-max-50-bytes';

/** Stable names of the rules that reject a whole request. */
export type RequestShapeRule = 'body-must-be-object' | 'user-attrs-must-be-array' | 'user-tags-must-be-array';

/** Options of `validateUsers`. */
export interface ValidateUsersOptions {
  /**
   * The attribute names registered for the app (`im_set_attr_name`). When given, a user carrying any
   * other name is rejected. When omitted, every well-formed name is accepted.
   */
  readonly allowedNames?: ReadonlySet<string> | undefined;
}

/** What `validateUsers` returns: the users to send, the users refused, and how many entries came in. */
export interface ValidationResult {
  /** Valid users, one per account (duplicates merged), in first-seen order. */
  readonly users: UserUpdate[];
  /** One rejection per refused entry of `UserAttrs`. */
  readonly rejected: Rejection[];
  /** How many entries the `UserAttrs` array held. */
  readonly received: number;
}

/** One user's attributes to remove, by name: IM's `im_remove_attr` entry. */
export interface UserAttrRemoval {
  readonly To_Account: string;
  readonly Attrs: readonly string[];
}

/** A user and the tags one IM tag call names for them: IM's `UserTags` entry (docs 269/45941, 269/45942). */
export interface UserTagList {
  readonly To_Account: string;
  readonly Tags: readonly string[];
}

/**
 * One user's tag operations as the gateway accepts them and the lanes carry them, applied in this order:
 * remove every tag (`RemoveAll`), then remove `Remove`, then add `Add`. A request's entries for the same user are
 * composed into one (rules/tag-ops.ts), so this is also the form of a composed user.
 */
export interface UserTagOps {
  readonly To_Account: string;
  readonly RemoveAll?: true;
  readonly Remove?: readonly string[];
  readonly Add?: readonly string[];
}
