import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneGroupId, laneOf } from '../../lib/core/lanes/lane-of.ts';
import { apiEvent, lambdaContext, parseBody } from '../helpers/factories.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { FUZZ_ATTR_NAMES } from './body-arbitraries.ts';
import { snapshotPrototypes } from './prototype-snapshot.ts';
import { quietMetrics, reportLine, SILENT_LOGS } from './fuzz-output.ts';
import { isSqsText } from './sqs-characters.ts';
import { toApiEvent, webhookRequestArbitrary, type WebhookRequest } from './webhook-requests.ts';

// Repeatable by default; FUZZ_SEED=<n> explores elsewhere. fast-check prints the seed and path on failure.
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const RUNS = 10_000;
const DRAIN_EVERY = 1_000;
// No IM lookup (fixed names) and no early write: every accepted user is left in its lane, and counted Queued.
const LANE_COUNT = 20;
const FAST_ENV = {
  ...SILENT_LOGS,
  ATTR_NAMES: FUZZ_ATTR_NAMES.join(','),
  API_INLINE_CHUNKS: '0',
  LANE_COUNT: String(LANE_COUNT),
} as const;
// Generous: these bound a hang, not a performance target.
const HUGE_BODY_BOUND_MS = 5_000;
// Lambda's limit for a synchronous invocation's response (API Gateway answers 502 beyond it).
const LAMBDA_MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

type Answer = Record<string, unknown>;
const RULE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function hasUserAttrsArray(body: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.hasOwn(parsed, 'UserAttrs'))
      return undefined;
    const users: unknown = (parsed as { UserAttrs: unknown }).UserAttrs;
    return Array.isArray(users) ? users.length : undefined;
  } catch {
    return undefined;
  }
}

/** A refusal names the field and the rule, in its fields and at the start of its sentence. */
function expectRefusal(status: number, answer: Answer): void {
  expect(answer.ActionStatus).toBe('FAIL');
  if (status === 401) {
    expect(answer).toEqual({
      ActionStatus: 'FAIL',
      ErrorCode: 1401,
      ErrorInfo: 'unauthorized',
      RequestId: expect.any(String),
    });
    return;
  }
  expect(answer.Path).toEqual(expect.any(String));
  expect(answer.Rule).toMatch(RULE);
  const path = answer.Path as string;
  // A whole-body fault has the empty path; its sentence then names "The request body".
  expect(answer.ErrorInfo).toEqual(expect.stringMatching(/./));
  expect((answer.ErrorInfo as string).startsWith(path === '' ? 'The request body' : path)).toBe(true);
  if (status === 415) expect(answer).toMatchObject({ Path: 'headers.content-type', Rule: 'content-type-must-be-json' });
}

/** A count field of an answer: a whole number ≥ 0. */
function count(answer: Answer, key: string): number {
  const value = answer[key];
  expect(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0, `${key} is ${String(value)}`).toBe(
    true,
  );
  return value as number;
}

/** Counts add up, every rejection names path and rule, and the status follows from the counts. */
function expectCounts(status: number, answer: Answer, body: string): void {
  const Received = count(answer, 'Received');
  const Applied = count(answer, 'Applied');
  const Queued = count(answer, 'Queued');
  const Rejected = count(answer, 'Rejected');
  const Merged = count(answer, 'Merged');
  const Accepted = count(answer, 'Accepted');
  const RejectedUsersOmitted = count(answer, 'RejectedUsersOmitted');
  const RejectedUsers = answer.RejectedUsers as Answer[];
  expect(Received).toBe(Applied + Queued + Rejected + Merged);
  expect(Applied).toBe(0); // API_INLINE_CHUNKS=0
  expect(Accepted).toBe(Queued);
  expect(RejectedUsers.length + RejectedUsersOmitted).toBe(Rejected);
  const length = hasUserAttrsArray(body);
  if (length !== undefined) expect(Received).toBe(length);
  for (const rejected of RejectedUsers) {
    expect(rejected.Path).toEqual(expect.stringMatching(/^UserAttrs/));
    expect(rejected.Rule).toMatch(RULE);
    expect(String(rejected.Reason)).toContain(rejected.Path);
  }
  expect(answer.ActionStatus).toBe(Rejected > 0 ? 'FAIL' : 'OK');
  const expectedStatus = Rejected > 0 && Accepted === 0 ? 422 : Queued > 0 ? 202 : 200;
  expect(status).toBe(expectedStatus);
}

function expectAnswer(request: WebhookRequest, result: APIGatewayProxyStructuredResultV2): Answer {
  const status = result.statusCode ?? 0;
  expect([200, 202, 400, 401, 413, 415, 422]).toContain(status);
  expect(status === 401).toBe(request.auth !== 'signed');
  const answer = parseBody(result);
  if (status >= 400 && status !== 422) expectRefusal(status, answer);
  else expectCounts(status, answer, request.body);
  return answer;
}

describe('webhook bodies (fuzz through the API handler)', () => {
  let stack: Stack;
  let restoreTelemetry: () => void;
  let prototypeChanges: () => string[];

  /** Takes everything off the lanes; returns the users they held, checking each message on the way. */
  const drainLanes = async (): Promise<number> => {
    const messages = await stack.takeAll(stack.lanesUrl);
    let users = 0;
    for (const message of messages) {
      const body = message.Body ?? '';
      expect(isSqsText(body)).toBe(true);
      expect(message.MessageAttributes?.origin?.StringValue).toBe('api');
      const laned = (JSON.parse(body) as { UserAttrs: { To_Account: string }[] }).UserAttrs;
      // Each user travels in the lane of its account.
      expect(
        laned.filter((u) => laneGroupId(laneOf(u.To_Account, LANE_COUNT)) !== message.Attributes?.MessageGroupId),
      ).toEqual([]);
      users += laned.length;
    }
    return users;
  };

  beforeAll(async () => {
    restoreTelemetry = quietMetrics();
    prototypeChanges = snapshotPrototypes();
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.takeAll(stack.lanesUrl);
    await stack.close();
    restoreTelemetry();
  });

  it(
    `answers ${RUNS} generated requests without throwing or a 5xx, naming field and rule, with every accepted user in its lane`,
    { timeout: 120_000 },
    async () => {
      // Prepare
      const { api } = stack.copy(FAST_ENV);
      let cases = 0;
      let acceptedCounted = 0;
      let lanedFound = 0;
      const statuses = new Map<number, number>();
      const started = performance.now();
      // Act: each case is invoked and its answer checked at once, so fast-check can shrink a failure.
      await fc.assert(
        fc.asyncProperty(webhookRequestArbitrary, async (request) => {
          cases++;
          const result = await api(toApiEvent(request), lambdaContext());
          const answer = expectAnswer(request, result);
          statuses.set(result.statusCode ?? 0, (statuses.get(result.statusCode ?? 0) ?? 0) + 1);
          if (typeof answer.Accepted === 'number') acceptedCounted += answer.Accepted;
          if (cases % DRAIN_EVERY === 0) lanedFound += await drainLanes();
        }),
        { seed: SEED, numRuns: RUNS },
      );
      lanedFound += await drainLanes();
      const elapsedMs = Math.round(performance.now() - started);
      reportLine(
        `fuzz: webhook bodies: ${cases} cases in ${elapsedMs} ms (seed ${SEED}); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
      );
      // Assess
      expect(cases).toBe(RUNS);
      expect(lanedFound).toBe(acceptedCounted);
      expect(prototypeChanges()).toEqual([]);
      // Every kind of answer was reached: the generators are not stuck on one path.
      expect([...statuses.keys()].sort()).toEqual([200, 202, 400, 401, 415, 422]);
    },
  );

  it('answers 413 for a body one byte over MAX_BODY_BYTES, plain or base64, and not at the limit', async () => {
    // Prepare
    const { api } = stack.copy(FAST_ENV);
    const limit = 6_000_000; // the default MAX_BODY_BYTES
    const bodyOf = (bytes: number) => {
      const prefix = '{"UserAttrs":[],"pad":"';
      return `${prefix}${'x'.repeat(bytes - prefix.length - 2)}"}`;
    };
    // Act
    const over = await api(apiEvent(bodyOf(limit + 1)), lambdaContext());
    const overBase64 = await api(apiEvent(bodyOf(limit + 1), { isBase64Encoded: true }), lambdaContext());
    const atLimit = await api(apiEvent(bodyOf(limit)), lambdaContext());
    // Assess
    expect(over.statusCode).toBe(413);
    expect(parseBody(over)).toMatchObject({ ActionStatus: 'FAIL', Path: 'body', Rule: 'body-max-bytes' });
    expect(overBase64.statusCode).toBe(413);
    expect(atLimit.statusCode).toBe(200);
  });

  it.each([
    [
      'a 1,000,000-deep array as the body',
      () => `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`,
      400,
      'body-must-be-object',
    ],
    [
      'a 1,000,000-deep array as a user',
      () => `{"UserAttrs":[${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}]}`,
      422,
      'user-must-be-object',
    ],
    [
      'a 1,000,000-deep array as a value',
      () => `{"UserAttrs":[{"To_Account":"deep","Attrs":{"city":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}}]}`,
      422,
      'value-must-be-string',
    ],
    [
      'a 5 MB string value',
      () => JSON.stringify({ UserAttrs: [{ To_Account: 'big', Attrs: { city: 'x'.repeat(5_000_000) } }] }),
      422,
      'value-max-50-bytes',
    ],
    [
      'a 5 MB account',
      () => JSON.stringify({ UserAttrs: [{ To_Account: '城'.repeat(1_700_000), Attrs: { city: 'x' } }] }),
      422,
      'to-account-max-32-bytes',
    ],
    [
      'a 5 MB attribute name',
      () => JSON.stringify({ UserAttrs: [{ To_Account: 'big', Attrs: { ['n'.repeat(5_000_000)]: 'x' } }] }),
      422,
      'attr-name-max-50-bytes',
    ],
    ['a 5 MB string as the body', () => JSON.stringify('x'.repeat(5_000_000)), 400, 'body-must-be-object'],
  ])('refuses %s with a short 4xx naming the rule, without throwing', async (name, makeBody, status, rule) => {
    // Prepare
    const { api } = stack.copy(FAST_ENV);
    const event = apiEvent(makeBody());
    // Act
    const started = performance.now();
    const result = await api(event, lambdaContext());
    const elapsedMs = Math.round(performance.now() - started);
    reportLine(`fuzz: webhook ${name}: ${result.statusCode ?? 0} in ${elapsedMs} ms`);
    // Assess
    const answer = parseBody(result);
    expect(result.statusCode).toBe(status);
    expect(status === 422 ? (answer.RejectedUsers as Answer[])[0]?.Rule : answer.Rule).toBe(rule);
    expect(elapsedMs).toBeLessThan(HUGE_BODY_BOUND_MS);
  });

  // Inputs that once broke the gateway (found by the properties above), kept as plain regressions.

  it('keeps the answer under Lambda’s 6 MB response limit when an over-long attribute name looks like an identifier', async () => {
    // Prepare: identifier-like names are not shortened in paths, so the 5 MB name comes back in Path and in Reason.
    const { api } = stack.copy(FAST_ENV);
    const body = JSON.stringify({ UserAttrs: [{ To_Account: 'big', Attrs: { ['n'.repeat(5_000_000)]: 'x' } }] });
    // Act
    const result = await api(apiEvent(body), lambdaContext());
    // Assess
    expect(result.statusCode).toBe(422);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(LAMBDA_MAX_RESPONSE_BYTES);
  });

  it('keeps the answer under Lambda’s 6 MB response limit when 100,000 users are rejected', async () => {
    // Prepare: 300 KB of `{}` entries; each rejection is reported in full (about 180 bytes each).
    const { api } = stack.copy(FAST_ENV);
    const body = JSON.stringify({ UserAttrs: Array.from({ length: 100_000 }, () => ({})) });
    // Act
    const result = await api(apiEvent(body), lambdaContext());
    // Assess
    expect(result.statusCode).toBe(422);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(LAMBDA_MAX_RESPONSE_BYTES);
  });

  it('does not answer 5xx for a valid value holding U+FFFF, a character SQS refuses', async () => {
    // Prepare: `\uffff` is a JSON escape, so the request itself is plain ASCII; JSON.stringify writes the
    // character back raw into the lane message, which SQS (and fauxqs) refuse unless it is escaped again.
    const { api } = stack.copy(FAST_ENV);
    const body = '{"UserAttrs":[{"To_Account":"fz-ffff","Attrs":{"city":"\\uffff"}}]}';
    // Act
    const result = await api(apiEvent(body), lambdaContext());
    // Assess
    expect(result.statusCode ?? 0).toBeLessThan(500);
  });

  it('ignores __proto__ and constructor keys on the body and on users: same answer, same laned users, no pollution', async () => {
    // Prepare
    const { api } = stack.copy(FAST_ENV);
    const users =
      '[{"To_Account":"proto-1","Attrs":{"city":"Paris"}},{"__proto__":{"To_Account":"inherited","Attrs":{"city":"x"}}},{"To_Account":"proto-2","Attrs":{"tier":"t1"},"constructor":{"prototype":{"polluted":1}}}]';
    const plain = `{"UserAttrs":${users}}`;
    const polluting = `{"__proto__":{"polluted":1,"UserAttrs":[]},"constructor":{"prototype":{"polluted":1}},"UserAttrs":${users}}`;
    const lanedUsers = async (): Promise<unknown[]> =>
      (await stack.takeAll(stack.lanesUrl))
        .flatMap((m) => (JSON.parse(m.Body ?? '{}') as { UserAttrs: { To_Account: string }[] }).UserAttrs)
        .sort((a, b) => a.To_Account.localeCompare(b.To_Account));
    await stack.takeAll(stack.lanesUrl);
    // Act
    const plainAnswer = parseBody(await api(apiEvent(plain), lambdaContext()));
    const plainLaned = await lanedUsers();
    const pollutingAnswer = parseBody(await api(apiEvent(polluting), lambdaContext()));
    const pollutingLaned = await lanedUsers();
    // Assess
    const withoutId = ({ RequestId: _id, ...rest }: Answer) => rest;
    expect(withoutId(pollutingAnswer)).toEqual(withoutId(plainAnswer));
    expect(plainAnswer).toMatchObject({ Received: 3, Accepted: 2, Queued: 2, Rejected: 1 });
    expect((plainAnswer.RejectedUsers as Answer[])[0]).toMatchObject({
      To_Account: null,
      Path: 'UserAttrs[1].To_Account',
      Rule: 'to-account-required',
    });
    expect(pollutingLaned).toEqual(plainLaned);
    expect(plainLaned).toEqual([
      { To_Account: 'proto-1', Attrs: { city: 'Paris' } },
      { To_Account: 'proto-2', Attrs: { tier: 't1' } },
    ]);
    expect(prototypeChanges()).toEqual([]);
  });
});
