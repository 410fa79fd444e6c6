import * as z from '../validation/zod.ts';
import type { ImCredentials } from './types.ts';
import { GatewayError } from '../core/errors.ts';

/** The least key Standard Webhooks allows (24 bytes); a short key makes forging a signature a search. */
const MIN_WEBHOOK_KEY_BYTES = 24;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The key bytes of a `whsec_` secret, or 0 when the part after the prefix is not strict base64. */
function webhookKeyBytes(secret: string): number {
  const base64 = secret.slice('whsec_'.length);
  return STRICT_BASE64.test(base64) ? Buffer.from(base64, 'base64').length : 0;
}

const webhookSecretSchema = z.string().check(
  z.startsWith('whsec_'),
  z.refine(
    (s) => !s.startsWith('whsec_') || webhookKeyBytes(s) >= MIN_WEBHOOK_KEY_BYTES,
    `must be whsec_ followed by the base64 of at least ${MIN_WEBHOOK_KEY_BYTES} bytes`,
  ),
);

/**
 * The IM credentials secret's JSON: `{"sdkAppId":…,"identifier":…,"secretKey":…}`. A `webhookSecret` is still read
 * from it when no webhook secret of its own is configured (a single secret, as before the two were split).
 */
const secretSchema = z.object({
  // A number, or its digits as the console shows them: coercion would also turn `true` or `[5]` into an id.
  sdkAppId: z.pipe(
    z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d{1,16}$/, 'must be digits')), z.transform(Number))]),
    z.int().check(z.positive()),
  ),
  identifier: z.string().check(z.minLength(1), z.maxLength(32)),
  secretKey: z.string().check(
    z.minLength(1),
    z.refine((s) => s.trim() !== '', 'must not be blank'),
  ),
  webhookSecret: z.optional(webhookSecretSchema),
});

export class SecretFormatError extends GatewayError {
  override name = 'SecretFormatError';
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

/**
 * Parses the webhook secret's own secret string: the `whsec_…` value alone, or `{"webhookSecret":"whsec_…"}`.
 * Errors name the rule, never the value.
 */
export function parseWebhookSecret(secretString: string): string {
  let value: unknown = secretString.trim();
  if (secretString.trim().startsWith('{')) {
    try {
      value = Reflect.get(JSON.parse(secretString) as object, 'webhookSecret');
    } catch {
      throw new SecretFormatError('the webhook secret is neither whsec_… nor JSON');
    }
  }
  const result = webhookSecretSchema.safeParse(value);
  if (!result.success)
    throw new SecretFormatError(
      `the webhook secret is malformed: webhookSecret: ${result.error.issues.map((i) => i.message).join('; ')}`,
    );
  return result.data;
}
