import { describe, expect, it } from 'vitest';
import { TRANSPORT_ERROR_CODES } from '../../lib/im/error-codes.ts';
import { DeadlineError, ImError } from '../../lib/im/errors.ts';

describe('ImError and DeadlineError', () => {
  it('carry the code, info, class, command, attempts and cause', () => {
    // Prepare
    const cause = new Error('ECONNRESET');

    // Act
    const error = new ImError({
      errorCode: 91000,
      errorInfo: 'internal error',
      errorClass: 'transient',
      command: 'all_member_push/im_set_attr',
      attempts: 6,
      cause,
    });

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'ImError',
      errorCode: 91000,
      errorInfo: 'internal error',
      errorClass: 'transient',
      command: 'all_member_push/im_set_attr',
      attempts: 6,
    });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe(
      'IM all_member_push/im_set_attr failed with ErrorCode 91000 (transient) after 6 attempt(s): internal error',
    );
  });

  it('DeadlineError is a transient ImError with the deadline pseudo-code', () => {
    // Prepare
    const previous = new ImError({
      errorCode: 60008,
      errorInfo: 'timeout',
      errorClass: 'transient',
      command: 'c',
      attempts: 2,
    });

    // Act
    const error = new DeadlineError('c', 2, 1234, previous);

    // Assess
    expect(error).toBeInstanceOf(ImError);
    expect(error).toMatchObject({
      name: 'DeadlineError',
      errorCode: TRANSPORT_ERROR_CODES.deadline,
      errorClass: 'transient',
      attempts: 2,
      deadlineMs: 1234,
    });
    expect(error.cause).toBe(previous);
  });
});
