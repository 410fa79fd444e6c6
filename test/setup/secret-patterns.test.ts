import { describe, expect, it } from 'vitest';
import { signUserSig } from '../../lib/usersig/user-sig.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';
import { PLANTED_PERSONAL } from './planted-personal-data.ts';
import { findSecrets } from './secret-patterns.ts';

describe('secret scan patterns', () => {
  it('finds each planted secret and signed material, and nothing in clean lines', () => {
    // Prepare
    const sig = signUserSig(TEST_CREDENTIALS, 86_400);
    const text = [
      '{"level":"INFO","message":"webhook processed","received":3}',
      `{"error":"${TEST_CREDENTIALS.secretKey}"}`,
      `header ${TEST_CREDENTIALS.webhookSecret}`,
      `https://adminapisgp.im.qcloud.com/v4/all_member_push/im_set_attr?sdkappid=1&identifier=a&usersig=${sig}&random=1`,
      `sig ${sig}`,
      'RequestId req-6af9f0b4-39e5-4404-b18e-7cab3287d325',
    ].join('\n');
    // Act
    const hits = findSecrets(text);
    // Assess
    expect(hits.map((h) => `${h.kind}@${h.line}`)).toEqual([
      'secret key@2',
      'webhook secret@3',
      'webhook secret (key part)@3',
      'signed IM URL@4',
      'UserSig@4',
      'UserSig@5',
    ]);
  });

  it("finds planted personal values in a log line or an answer, and lets a rejected user's account and field path through", () => {
    // Prepare
    const text = [
      `{"level":"WARN","message":"webhook refused","error":{"message":"body: not valid JSON: ${PLANTED_PERSONAL.bodyFragment}"}}`,
      `{"RejectedUsers":[{"To_Account":"u-3","Path":"UserAttrs[2].Attrs.city","Reason":"${PLANTED_PERSONAL.longValue} is too long"}]}`,
      '{"RejectedUsers":[{"To_Account":"u-3","Path":"UserAttrs[2].Attrs.city","Rule":"value-max-50-bytes"}]}',
    ].join('\n');
    // Act
    const hits = findSecrets(text);
    // Assess
    expect(hits.map((h) => `${h.kind}@${h.line}`)).toEqual(['personal body fragment@1', 'personal attribute value@2']);
  });
});
