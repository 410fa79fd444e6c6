/**
 * `npm run audit`: fails on high or critical advisories in the production dependencies. When the registry
 * offers no audit endpoint (some mirrors answer 405), it says so plainly and does not fail: an unanswered
 * audit is reported, never mistaken for a clean one.
 */
import { spawnSync } from 'node:child_process';

interface AuditReport {
  readonly statusCode?: number;
  readonly message?: string;
  readonly error?: unknown;
  readonly metadata?: { readonly vulnerabilities?: Readonly<Record<string, number>> };
}

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report: AuditReport;
try {
  report = JSON.parse(run.stdout) as AuditReport;
} catch {
  process.stderr.write(
    `audit: npm audit printed no JSON (exit ${run.status ?? 'none'}): ${run.stderr.slice(0, 500)}\n`,
  );
  process.exit(1);
}
const counts = report.metadata?.vulnerabilities;
if (counts === undefined) {
  process.stdout.write(
    `audit: NOT RUN — the registry's audit endpoint did not answer (${report.statusCode ?? ''} ${report.message ?? 'no advisories returned'})\n`,
  );
  process.exit(0);
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
process.stdout.write(`audit: production dependencies: ${JSON.stringify(counts)}\n`);
process.exit(serious === 0 ? 0 : 1);
