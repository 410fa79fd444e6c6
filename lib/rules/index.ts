/** The request rules of the gateway: shape, byte limits, allow-list, merging and chunking. */
export { chunk } from './chunk.ts';
export {
  MAX_ACCOUNT_BYTES,
  MAX_ATTR_NAME_BYTES,
  MAX_ATTR_NAMES,
  MAX_USERS_PER_CALL,
  MAX_VALUE_BYTES,
} from './constants.ts';
export { RequestShapeError } from './request-shape-error.ts';
export {
  parseUserAttrsBody,
  parseUserAttrsEnvelope,
  userAttrSchema,
  userAttrsBodySchema,
  userAttrsEnvelopeSchema,
} from './schemas.ts';
export type {
  Rejection,
  RequestShapeRule,
  UserAttr,
  UserAttrsBody,
  UserRule,
  ValidateUsersOptions,
  ValidationResult,
} from './types.ts';
export { validateUsers } from './validate-users.ts';
