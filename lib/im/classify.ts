/** Maps an answer's ErrorCode (or a transport pseudo-code) to what the client should do about it. */
import { IM_ERROR_CODES, TRANSPORT_ERROR_CODES } from './error-codes.ts';
import type { RetryClass } from '../core/errors.ts';
import type { ErrorClass } from './types.ts';

const TRANSIENT_PSEUDO_CODES: ReadonlySet<number> = new Set(Object.values(TRANSPORT_ERROR_CODES));

/**
 * The class of an ErrorCode.
 *
 * - 0 is 'ok'.
 * - Known IM codes follow the table in `IM_ERROR_CODES` (from doc 269/1671).
 * - Transport pseudo-codes (timeout, connection, deadline, invalid response) and HTTP 5xx are 'transient';
 *   HTTP 429 is 'rate-limited'; any other HTTP error status (e.g. 404: wrong path) is 'permanent'.
 * - Unknown positive codes are 'permanent': retrying something whose meaning is unknown can only
 *   multiply load (or feed a signature lockout); failing it carries the code to the dead-letter queue,
 *   where a person can look it up and extend the table.
 */
export function classifyErrorCode(errorCode: number): ErrorClass {
  if (errorCode === 0) return 'ok';
  const known = IM_ERROR_CODES.get(errorCode);
  if (known !== undefined) return known.class;
  if (TRANSIENT_PSEUDO_CODES.has(errorCode)) return 'transient';
  if (errorCode < 0) {
    const status = -errorCode;
    if (status === 429) return 'rate-limited';
    if (status >= 500 && status <= 599) return 'transient';
  }
  return 'permanent';
}

/** The retry class of a failure's ErrorCode (never 0): a code IM calls success cannot be a failure's, so it is not trusted. */
export function retryClassOf(errorCode: number): RetryClass {
  const errorClass = classifyErrorCode(errorCode);
  return errorClass === 'ok' ? 'permanent' : errorClass;
}
