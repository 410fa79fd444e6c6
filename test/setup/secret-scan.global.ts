/**
 * Global setup: every worker tees its output into one capture file; at the end of the suite the file is
 * scanned for the planted secrets. A hit fails the run: no secret key, UserSig, webhook secret or signed IM
 * URL may appear in any log line, error message or response.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURE_FILE_ENV } from './output-capture.ts';
import { findSecrets } from './secret-patterns.ts';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'tim-secret-scan-'));
  const file = join(dir, 'captured.log');
  writeFileSync(file, '');
  process.env[CAPTURE_FILE_ENV] = file;
  return () => {
    const text = readFileSync(file, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const lines = text.split('\n').length;
    const hits = findSecrets(text);
    if (hits.length > 0) {
      throw new Error(
        `secret scan: ${hits.length} planted secret(s) found in the suite's output (${lines} lines scanned): ${hits
          .map((h) => `${h.kind} at line ${h.line}`)
          .slice(0, 10)
          .join(', ')}`,
      );
    }
    process.stdout.write(`secret scan: ${lines} captured lines scanned, no secret found\n`);
  };
}
