import { z } from '../validation/zod.ts';
import type { ImCredentials } from './types.ts';

/** The Secrets Manager secret's JSON: `{"sdkAppId":…,"identifier":…,"secretKey":…,"webhookSecret":"whsec_…"}`. */
const secretSchema = z.object({
  sdkAppId: z.pipe(z.coerce.number(), z.int().check(z.positive())),
  identifier: z.string().check(z.minLength(1), z.maxLength(32)),
  secretKey: z.string().check(z.minLength(1)),
  webhookSecret: z.optional(z.string().check(z.startsWith('whsec_'))),
});

export class SecretFormatError extends Error {
  override readonly name = 'SecretFormatError';
}

/** Parses the secret string. Errors name the field and the rule, never the value. */
export function parseSecret(secretString: string): ImCredentials {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new SecretFormatError('the credentials secret is not JSON');
  }
  const result = secretSchema.safeParse(json);
  if (!result.success) {
    // zod's messages name the path and rule; they do not echo the input value.
    const fields = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new SecretFormatError(`the credentials secret is malformed: ${fields}`);
  }
  const { webhookSecret, ...rest } = result.data;
  return webhookSecret === undefined ? rest : { ...rest, webhookSecret };
}
