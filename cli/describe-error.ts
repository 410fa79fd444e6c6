import { ImError } from '../lib/im/errors.ts';

/**
 * One line about a failure. IM errors carry their ErrorCode and ErrorInfo, never the request URL (its query
 * holds the UserSig); AWS errors their name and message. Causes are named, not dumped.
 */
export function describeError(error: unknown): string {
  if (error instanceof ImError) return error.message;
  if (error instanceof Error) {
    const cause =
      error.cause instanceof Error && !error.message.includes(error.cause.message)
        ? ` (${error.cause.name}: ${error.cause.message})`
        : '';
    return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}${cause}`;
  }
  return String(error);
}
