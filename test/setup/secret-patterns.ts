/** The secrets and personal data planted in the test suite and the shapes of signed material, to look for in its output. */
import { DEV_SECRET_KEY } from '../../local/emulator/index.ts';
import { TEST_CREDENTIALS } from '../helpers/factories.ts';
import { PLANTED_PERSONAL } from './planted-personal-data.ts';

export interface SecretHit {
  readonly kind: string;
  readonly line: number;
}

const literal = (kind: string, value: string) => ({ kind, test: (line: string) => line.includes(value) });

const PATTERNS: readonly { kind: string; test: (line: string) => boolean }[] = [
  literal('secret key', TEST_CREDENTIALS.secretKey),
  literal('emulator secret key', DEV_SECRET_KEY),
  literal('webhook secret', TEST_CREDENTIALS.webhookSecret),
  literal('webhook secret (key part)', TEST_CREDENTIALS.webhookSecret.slice('whsec_'.length)),
  // An IM URL with its query string carries the UserSig.
  { kind: 'signed IM URL', test: (line) => /usersig=/i.test(line) },
  // A UserSig is zlib (0x78 …, base64 "eJ") in Tencent's alphabet; 60+ characters rule out chance matches.
  { kind: 'UserSig', test: (line) => /eJ[A-Za-z0-9*_-]{60,}/.test(line) },
  // Personal data: the long value begins with the attribute value, so one pattern covers both.
  literal('personal attribute value', PLANTED_PERSONAL.attrValue),
  literal('personal body fragment', PLANTED_PERSONAL.bodyFragment),
];

export function findSecrets(text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    for (const p of PATTERNS) if (p.test(line)) hits.push({ kind: p.kind, line: i + 1 });
  }
  return hits;
}
