/**
 * `npm run send -- body.json [--url URL] [--secret whsec_…]`: posts a JSON file to the webhook API,
 * signed per Standard Webhooks, and prints the answer. Exits 1 unless the answer is 2xx.
 *
 * Defaults: URL `http://localhost:${PORT or 3000}/v1/user-attrs`; secret WEBHOOK_SECRET, else the local
 * development secret `npm start` uses.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { localCredentials } from './local/local-credentials.ts';
import { signWebhook } from './local/sign-webhook.ts';

const usage = 'usage: npm run send -- <body.json> [--url URL] [--secret whsec_…]';
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, secret: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
const file = positionals[0];
if (values.help === true || file === undefined || positionals.length > 1) {
  console.error(usage);
  process.exit(values.help === true ? 0 : 2);
}

const url = values.url ?? `http://localhost:${process.env['PORT'] ?? '3000'}/v1/user-attrs`;
const secret = values.secret ?? localCredentials(process.env).WEBHOOK_SECRET;
const payload = await readFile(file, 'utf8');
const headers = signWebhook({ secret, payload });

const started = performance.now();
const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
const text = await response.text();
const ms = Math.round(performance.now() - started);

console.log(`POST ${url} (${Buffer.byteLength(payload)} bytes, ${headers['webhook-id']}) → ${response.status} ${response.statusText} in ${ms} ms`);
try {
  console.log(JSON.stringify(JSON.parse(text), null, 2));
} catch {
  console.log(text);
}
process.exitCode = response.ok ? 0 : 1;
