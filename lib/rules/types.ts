/** One user's attributes, in IM's own `im_set_attr` shape. */
export interface UserAttr {
  readonly To_Account: string;
  readonly Attrs: Readonly<Record<string, string>>;
}

/** The body IM takes and the gateway accepts: `{"UserAttrs":[...]}`. */
export interface UserAttrsBody {
  readonly UserAttrs: readonly UserAttr[];
}

/** A user refused by the request rules, reported on its own while the valid users go on. */
export interface Rejection {
  /** The user's account when it could be read, otherwise null. */
  readonly To_Account: string | null;
  /** Where the fault is, e.g. `UserAttrs[3].Attrs.city`. */
  readonly path: string;
  /** A stable machine-readable rule name, e.g. `value-max-50-bytes`. */
  readonly rule: string;
  /** A human sentence naming the field and the rule. */
  readonly message: string;
}
