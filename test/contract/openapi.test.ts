/**
 * openapi.yaml cannot drift from the code: its Rule and ErrorCode lists and its status codes are compared
 * with what the code defines and produces, and real answers of the API handler on the local stack (the IM
 * emulator, fauxqs, dynalite) are validated against its response schemas (JSON Schema 2020-12, as OpenAPI 3.1).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { RequestRefusedError, type RequestRule } from '../../lib/http/request-errors.ts';
import { acceptedResponse, errorResponse, GATEWAY_CODES } from '../../lib/http/responses.ts';
import { RequestShapeError } from '../../lib/core/errors.ts';
import { isUserRule } from '../../lib/core/rules/rule-messages.ts';
import type { RequestShapeRule, UserRule } from '../../lib/core/rules/types.ts';
import { isTagRule, type TagRule } from '../../lib/core/rules/tag-entry.ts';
import type { AcceptWebhookResult } from '../../lib/core/usecases/accept-webhook.ts';
import { StaleRequestError } from '../../lib/core/errors.ts';
import {
  IdempotencyUnavailableError,
  LanesUnavailableError,
  RequestInProgressError,
  RequestKeyReusedError,
} from '../../lib/core/errors.ts';
import { WebhookAuthError } from '../../lib/webhook/webhook-authenticator.ts';
import { apiEvent, lambdaContext, makeUsers, TEST_CREDENTIALS } from '../helpers/factories.ts';
import { useStack } from '../helpers/use-stack.ts';

const DOCUMENT_ID = 'https://tim-attr-gateway.invalid/openapi.yaml';
const OPERATION = ['paths', '/v1/user-attrs', 'post'] as const;
const TAGS_OPERATION = ['paths', '/v1/user-tags', 'post'] as const;

/** The value at `keys` inside a parsed document, or undefined. */
function at(value: unknown, ...keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = Reflect.get(current, key);
  }
  return current;
}

function keysOf(value: unknown): string[] {
  return typeof value === 'object' && value !== null ? Object.keys(value) : [];
}

/** A JSON pointer fragment to `keys` (RFC 6901). */
function pointer(...keys: readonly string[]): string {
  return `${DOCUMENT_ID}#/${keys.map((k) => k.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
}

const documentText = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');
const document: unknown = parse(documentText);

// strictRequired off: an `allOf` branch requires fields its sibling (ErrorAnswer) defines.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
// The document's own top-level fields, and OpenAPI's `example` annotation, are no JSON Schema keywords.
ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'security', 'paths', 'components', 'example']);
addFormats.default(ajv);
ajv.addSchema(document as object, DOCUMENT_ID);

/** The validator of the JSON body answered with `status`. */
function responseSchema(status: string): ValidateFunction {
  return ajv.compile({ $ref: pointer(...OPERATION, 'responses', status, 'content', 'application/json', 'schema') });
}

/** A handler's answer as the contract sees it. */
interface Answer {
  readonly statusCode?: number | undefined;
  readonly headers?: Readonly<Record<string, string | number | boolean>> | undefined;
  readonly body?: string | undefined;
}

/** Asserts the answer has a status the document lists, a body its schema accepts, and the headers it declares. */
function expectConforms(answer: Answer, status: number): void {
  expect(answer.statusCode).toBe(status);
  const validate = responseSchema(String(status));
  const body: unknown = JSON.parse(answer.body ?? '');
  const valid = validate(body);
  expect(validate.errors ?? [], `${status} ${answer.body ?? ''}`).toEqual([]);
  expect(valid).toBe(true);
  const retryAfter = answer.headers?.['retry-after'];
  if (retryAfter !== undefined) {
    expect(keysOf(at(document, ...OPERATION, 'responses', String(status), 'headers'))).toContain('Retry-After');
    expect(String(retryAfter)).toMatch(/^[0-9]+$/);
  }
}

/** Every rule name the code defines; each Record must name every member of its union or the typecheck fails. */
const USER_AND_SHAPE_RULES: Readonly<Record<UserRule | RequestShapeRule, true>> = {
  'body-must-be-object': true,
  'user-attrs-must-be-array': true,
  'user-must-be-object': true,
  'to-account-required': true,
  'to-account-must-be-string': true,
  'to-account-max-32-bytes': true,
  'attrs-required': true,
  'attrs-must-be-object': true,
  'attrs-must-not-be-empty': true,
  'attrs-max-10-names': true,
  'attr-name-required': true,
  'attr-name-max-50-bytes': true,
  'attr-name-unregistered': true,
  'value-must-be-string': true,
  'value-max-50-bytes': true,
  'user-tags-must-be-array': true,
};
const TAG_RULES: Readonly<Record<TagRule, true>> = {
  'user-must-be-object': true,
  'to-account-required': true,
  'to-account-must-be-string': true,
  'to-account-max-32-bytes': true,
  'tag-op-required': true,
  'tags-must-be-array': true,
  'tag-must-be-string': true,
  'tag-required': true,
  'tag-max-50-bytes': true,
  'remove-all-must-be-true': true,
};
const REQUEST_RULES: Readonly<Record<RequestRule, true>> = {
  'body-max-bytes': true,
  'event-max-bytes': true,
  'content-type-must-be-json': true,
  'body-must-be-json': true,
  'idempotency-key-format': true,
};
const REFUSAL_STATUSES: Readonly<Record<RequestRefusedError['status'], true>> = { 400: true, 413: true, 415: true };

function acceptResult(counts: {
  received: number;
  accepted: number;
  applied: number;
  queued: number;
  rejected: number;
}): AcceptWebhookResult {
  const rejected = Array.from({ length: counts.rejected }, (_, i) => ({
    To_Account: `bad-${i}`,
    index: i,
    path: `UserAttrs[${i}].Attrs.planet`,
    rule: 'attr-name-unregistered',
    message: `UserAttrs[${i}].Attrs.planet is not an attribute name registered for the app [attr-name-unregistered].`,
  }));
  return {
    requestId: 'req-1',
    received: counts.received,
    merged: 0,
    accepted: counts.accepted,
    applied: counts.applied,
    queued: counts.queued,
    rejected,
  };
}

describe('openapi.yaml against the code', () => {
  it('lists as Rule every rule name the code defines, and the im-error-<code> pattern', () => {
    // Prepare
    const reused = JSON.parse(errorResponse(new RequestKeyReusedError('reused'), 'req-1').body) as { Rule: string };
    const codeRules = [
      ...new Set([
        ...Object.keys(USER_AND_SHAPE_RULES),
        ...Object.keys(TAG_RULES),
        ...Object.keys(REQUEST_RULES),
        reused.Rule,
      ]),
    ].sort();
    // Act
    const documented = at(document, 'components', 'schemas', 'RuleName', 'enum');
    const pattern = at(document, 'components', 'schemas', 'ImErrorRule', 'pattern');
    // Assess
    expect(Array.isArray(documented) ? [...(documented as unknown[])].sort() : documented).toEqual(codeRules);
    expect(keysOf(USER_AND_SHAPE_RULES).filter((r) => isUserRule(r))).toHaveLength(
      Object.keys(USER_AND_SHAPE_RULES).length - 3,
    );
    expect(keysOf(TAG_RULES).every((r) => isTagRule(r))).toBe(true);
    expect(ajv.validate({ $ref: pointer('components', 'schemas', 'Rule') }, 'im-error-70107')).toBe(true);
    expect(ajv.validate({ $ref: pointer('components', 'schemas', 'Rule') }, 'im-error-')).toBe(false);
    expect(pattern).toBe('^im-error-[0-9]+$');
  });

  it('lists as ErrorCode exactly the gateway codes', () => {
    // Prepare
    const codes = Object.values(GATEWAY_CODES).sort((a, b) => a - b);
    // Act
    const documented = at(document, 'components', 'schemas', 'ErrorCode', 'enum');
    // Assess
    expect(documented).toEqual(codes);
  });

  it('lists exactly the statuses the answers can have, plus API Gateway 429, and each example fits its schema', () => {
    // Prepare: every error the answers map, every kind of accepted result, and each status a refusal may carry.
    const errors: unknown[] = [
      new WebhookAuthError('bad-signature'),
      new StaleRequestError('stale'),
      new RequestInProgressError('in progress'),
      new RequestKeyReusedError('reused'),
      ...Object.keys(REFUSAL_STATUSES).map(
        (s) => new RequestRefusedError(Number(s) as RequestRefusedError['status'], 'body', 'body-max-bytes', 'refused'),
      ),
      new RequestShapeError('UserAttrs', 'user-attrs-must-be-array', 'shape'),
      new IdempotencyUnavailableError('down'),
      new LanesUnavailableError('down', { accepted: 1, pending: 2 }),
      new Error('unexpected'),
    ];
    const results = [
      acceptResult({ received: 2, accepted: 2, applied: 2, queued: 0, rejected: 0 }),
      acceptResult({ received: 2, accepted: 2, applied: 1, queued: 1, rejected: 0 }),
      acceptResult({ received: 2, accepted: 0, applied: 0, queued: 0, rejected: 2 }),
    ];
    // Act
    const produced = new Set([
      ...errors.map((e) => errorResponse(e, 'req-1').statusCode),
      ...results.map((r) => acceptedResponse(r).statusCode),
      429,
    ]);
    const responses = at(document, ...OPERATION, 'responses');
    // Assess
    expect(keysOf(responses).map(Number).sort()).toEqual([...produced].sort());
    for (const status of keysOf(responses)) {
      const media = at(responses, status, 'content', 'application/json');
      const examples = [
        at(media, 'example'),
        ...keysOf(at(media, 'examples')).map((name) => at(media, 'examples', name, 'value')),
      ].filter((e) => e !== undefined);
      // An answer that says what happened: every user rejected is never "the others were applied".
      for (const example of examples)
        if (JSON.stringify(example).includes('"ErrorCode":1002'))
          expect(JSON.stringify(example)).not.toContain('the others');
      expect(examples.length, status).toBeGreaterThan(0);
      const validate = responseSchema(status);
      for (const example of examples)
        expect(validate(example), `${status} ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('accepts its request example and the README body, and refuses a body without UserAttrs', () => {
    // Prepare
    const validate = ajv.compile({
      $ref: pointer(...OPERATION, 'requestBody', 'content', 'application/json', 'schema'),
    });
    const example = at(
      document,
      ...OPERATION,
      'requestBody',
      'content',
      'application/json',
      'examples',
      'setAndRemove',
      'value',
    );
    // Act
    const results = [validate(example), validate({ UserAttrs: makeUsers(3) }), validate({ Users: [] })];
    // Assess
    expect(results).toEqual([true, true, false]);
  });

  it('answers the tags route exactly as the attributes route, and accepts its request examples', () => {
    // Prepare
    const validate = ajv.compile({
      $ref: pointer(...TAGS_OPERATION, 'requestBody', 'content', 'application/json', 'schema'),
    });
    const examples = at(document, ...TAGS_OPERATION, 'requestBody', 'content', 'application/json', 'examples');
    // Act
    const results = keysOf(examples).map((name) => validate(at(examples, name, 'value')));
    const bad = [
      validate({ UserTags: [{ To_Account: 'u' }] }),
      validate({ UserTags: [{ To_Account: 'u', Add: [''] }] }),
    ];
    // Assess
    expect(results).toEqual([true, true]);
    expect(bad).toEqual([false, false]);
    expect(at(document, ...TAGS_OPERATION, 'responses')).toEqual(at(document, ...OPERATION, 'responses'));
    expect(at(document, ...TAGS_OPERATION, 'parameters')).toEqual(at(document, ...OPERATION, 'parameters'));
  });
});

describe('real answers of the API handler on the local stack fit openapi.yaml', () => {
  const stack = useStack();

  it('200: every user applied, and some users rejected (1001)', async () => {
    // Prepare
    const { api } = stack.copy();
    const mixed = [
      ...makeUsers(2, 'c200'),
      { To_Account: 'c200-bad', Attrs: { planet: 'Mars' } },
      { To_Account: 'c200-long', Attrs: { city: '北'.repeat(17) } },
      { To_Account: 7 },
    ];
    // Act
    const all = await api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(3, 'c200') })), lambdaContext());
    const some = await api(apiEvent(JSON.stringify({ UserAttrs: mixed })), lambdaContext());
    // Assess
    expectConforms(all, 200);
    expectConforms(some, 200);
    expect(some.body).toContain('"ErrorCode":1001');
  });

  it('tags: 202 with some entries rejected, 422 when every entry is, and 400 for a body without UserTags', async () => {
    // Prepare
    const { api } = stack.copy();
    const send = (body: unknown) => api(apiEvent(JSON.stringify(body), { path: '/v1/user-tags' }), lambdaContext());
    // Act
    const some = await send({
      UserTags: [
        { To_Account: 'ct-1', Add: ['vip'] },
        { To_Account: 'ct-2', Add: [7] },
      ],
    });
    const none = await send({ UserTags: [{ To_Account: 'ct-3' }] });
    const shape = await send({ UserAttrs: [] });
    // Assess
    expectConforms(some, 202);
    expect(some.body).toContain('"Rule":"tag-must-be-string"');
    expectConforms(none, 422);
    expectConforms(shape, 400);
  });

  it('202: users left to the worker', async () => {
    // Prepare
    const { api } = stack.copy();
    // Act
    const result = await api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(400, 'c202') })), lambdaContext());
    // Assess
    expectConforms(result, 202);
  });

  it('400: not JSON, not {"UserAttrs":[...]}, and an Idempotency-Key out of bounds in IAM mode', async () => {
    // Prepare
    const { api } = stack.copy();
    const iam = stack.copy({ WEBHOOK_AUTH: 'none' });
    // Act
    const malformed = await api(apiEvent('{"UserAttrs":['), lambdaContext());
    const notObject = await api(apiEvent('[1]'), lambdaContext());
    const noArray = await api(apiEvent('{"Users":[]}'), lambdaContext());
    const badKey = await iam.api(
      apiEvent(JSON.stringify({ UserAttrs: makeUsers(1, 'c400') }), {
        sign: false,
        iamCaller: true,
        headers: { 'idempotency-key': 'k'.repeat(257) },
      }),
      lambdaContext(),
    );
    // Assess
    for (const answer of [malformed, notObject, noArray, badKey]) expectConforms(answer, 400);
    expect(badKey.body).toContain('idempotency-key-format');
  });

  it('401: no signature, and no IAM caller in IAM mode', async () => {
    // Prepare
    const { api } = stack.copy();
    const iam = stack.copy({ WEBHOOK_AUTH: 'none' });
    const body = JSON.stringify({ UserAttrs: makeUsers(1, 'c401') });
    // Act
    const unsigned = await api(apiEvent(body, { sign: false }), lambdaContext());
    const noCaller = await iam.api(apiEvent(body, { sign: false }), lambdaContext());
    // Assess
    expectConforms(unsigned, 401);
    expectConforms(noCaller, 401);
  });

  it('409 with Retry-After: a duplicate while the first delivery is in progress', async () => {
    // Prepare: IM answers slowly, so the first delivery is still in its early write.
    stack.emulator.setFaults({ latencyMs: [1_500, 1_500] });
    const { api } = stack.copy();
    const event = apiEvent(JSON.stringify({ UserAttrs: makeUsers(3, 'c409') }));
    // Act
    const first = api(event, lambdaContext());
    await new Promise((r) => setTimeout(r, 500));
    const duplicate = await api(event, lambdaContext());
    // Assess
    expectConforms(duplicate, 409);
    expect(duplicate.headers).toMatchObject({ 'retry-after': '5' });
    expectConforms(await first, 200);
  });

  it('413: over the body limit, declared and measured', async () => {
    // Prepare
    const { api } = stack.copy({ MAX_BODY_BYTES: '2048' });
    const big = JSON.stringify({ UserAttrs: makeUsers(100, 'c413') });
    // Act
    const declared = await api(apiEvent(big), lambdaContext());
    const measured = await api(apiEvent(big, { headers: { 'content-length': '10' } }), lambdaContext());
    // Assess
    expectConforms(declared, 413);
    expectConforms(measured, 413);
  });

  it('415: a body that is not sent as JSON', async () => {
    // Prepare
    const { api } = stack.copy();
    // Act
    const result = await api(
      apiEvent('UserAttrs=1', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      lambdaContext(),
    );
    // Assess
    expectConforms(result, 415);
  });

  it('422: every user rejected (1002), and a webhook-id reused for another body (1422)', async () => {
    // Prepare
    const { api } = stack.copy();
    await api(
      apiEvent(JSON.stringify({ UserAttrs: makeUsers(2, 'c422') }), { webhookId: 'msg_contract_reused' }),
      lambdaContext(),
    );
    // Act
    const allRejected = await api(
      apiEvent(JSON.stringify({ UserAttrs: [{ To_Account: 'c422-bad', Attrs: { planet: 'Mars' } }, { Attrs: {} }] })),
      lambdaContext(),
    );
    const reused = await api(
      apiEvent(JSON.stringify({ UserAttrs: makeUsers(3, 'c422') }), { webhookId: 'msg_contract_reused' }),
      lambdaContext(),
    );
    // Assess
    expectConforms(allRejected, 422);
    expectConforms(reused, 422);
    expect(allRejected.body).toContain('"ErrorCode":1002');
    expect(allRejected.body).toContain('"ErrorInfo":"all 2 users were rejected; nothing was applied or queued"');
    expect(reused.body).toContain('"ErrorCode":1422');
  });

  it('503: lanes unavailable (Accepted, Pending), and the idempotency table unreachable (Retry-After)', async () => {
    // Prepare
    const noLanes = stack.copy({ LANES_QUEUE_URL: `${stack.lanesUrl.replace(/[^/]+$/, '')}missing-lanes.fifo` });
    const noTable = stack.copy({ IDEMPOTENCY_TABLE: 'no-such-table' });
    // Act
    const lanes = await noLanes.api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(4, 'c503') })), lambdaContext());
    const table = await noTable.api(apiEvent(JSON.stringify({ UserAttrs: makeUsers(4, 'c503t') })), lambdaContext());
    // Assess
    expectConforms(lanes, 503);
    expectConforms(table, 503);
    expect(lanes.body).toContain('"Pending":');
    expect(table.headers).toMatchObject({ 'retry-after': '5' });
  });

  it('500: a malformed webhook secret', async () => {
    // Prepare
    const weak = 'whsec_eA==';
    stack.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ ...TEST_CREDENTIALS, webhookSecret: weak }) });
    const { api } = stack.copy();
    // Act
    let result: Awaited<ReturnType<typeof api>>;
    try {
      result = await api(
        apiEvent(JSON.stringify({ UserAttrs: makeUsers(1, 'c500') }), { sign: weak }),
        lambdaContext(),
      );
    } finally {
      stack.secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(TEST_CREDENTIALS) });
    }
    // Assess
    expectConforms(result, 500);
  });
});
