import { describe, expect, it } from 'vitest';
import { isRetryable } from '../../lib/core/errors.ts';
import { classifyErrorCode, retryClassOf } from '../../lib/im/classify.ts';
import { IM_ERROR_CODES, TRANSPORT_ERROR_CODES, httpStatusCode } from '../../lib/im/error-codes.ts';

// The retry class of each code, read from Tencent's error code pages (doc 269/1671, 269/1519) and
// copied here independently of the implementation's table.
const REFERENCE_TABLE = {
  'rate-limited': [60007, 60011, 60018, 60019],
  transient: [60008, 60013, 60014, 70169, 70500, 91000],
  'signature-stale': [70001, 70052],
  'signature-wrong': [60004, 60005, 70002, 70003, 70005, 70009, 70013, 70014],
  // the gateway's own configuration, never a user's fault: the lanes wait for a fix
  configuration: [
    // not admin
    60010, 70403, 90009,
    // app / region / push-to-all off
    60006, 60012, 60016, 60020, 60021, 70016, 70020, 90045,
  ],
  permanent: [
    // request
    60002, 60003, 60009, 60015, 90001, 90018, 90033, 70402,
    // account
    70107,
  ],
} as const;

const rows = Object.entries(REFERENCE_TABLE).flatMap(([errorClass, codes]) =>
  codes.map((code) => [code, errorClass] as const),
);

describe('classifyErrorCode', () => {
  it.each(rows)('classifies %i as %s', (code, expected) => {
    // Prepare
    const errorCode = code;

    // Act
    const errorClass = classifyErrorCode(errorCode);

    // Assess
    expect(errorClass).toBe(expected);
  });

  it('knows every code of the reference table', () => {
    // Prepare
    const referenceCodes = rows.map(([code]) => code);

    // Act
    const unknown = referenceCodes.filter((code) => !IM_ERROR_CODES.has(code));

    // Assess
    expect(unknown).toEqual([]);
  });

  it('classifies 0 as ok', () => {
    // Prepare
    const errorCode = 0;

    // Act
    const errorClass = classifyErrorCode(errorCode);

    // Assess
    expect(errorClass).toBe('ok');
  });

  it('puts the 70050 lockout in the signature-wrong family, never retried as transient', () => {
    // Prepare
    const lockout = 70050;

    // Act
    const errorClass = classifyErrorCode(lockout);

    // Assess
    expect(errorClass).toBe('signature-wrong');
    expect(isRetryable(retryClassOf(lockout))).toBe(false);
  });

  it('classifies unknown non-zero codes as permanent', () => {
    // Prepare
    const unknownCodes = [1, 12345, 69999, 80000, 99999];

    // Act
    const classes = unknownCodes.map(classifyErrorCode);

    // Assess
    expect(classes).toEqual(unknownCodes.map(() => 'permanent'));
  });

  it('classifies transport failures and HTTP 5xx as transient, 429 as rate-limited, other HTTP errors as permanent', () => {
    // Prepare
    const codes = [
      TRANSPORT_ERROR_CODES.timeout,
      TRANSPORT_ERROR_CODES.connection,
      TRANSPORT_ERROR_CODES.deadline,
      TRANSPORT_ERROR_CODES.invalidResponse,
      httpStatusCode(500),
      httpStatusCode(502),
      httpStatusCode(503),
      httpStatusCode(504),
      httpStatusCode(429),
      httpStatusCode(404),
      httpStatusCode(400),
    ];

    // Act
    const classes = codes.map(classifyErrorCode);

    // Assess
    expect(classes).toEqual([
      'transient',
      'transient',
      'transient',
      'transient',
      'transient',
      'transient',
      'transient',
      'transient',
      'rate-limited',
      'permanent',
      'permanent',
    ]);
  });
});
