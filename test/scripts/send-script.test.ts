import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

describe('npm run send', () => {
  it('names a missing body file and exits 2, without a stack trace', async () => {
    // Act
    const outcome = await run(process.execPath, [join(root, 'cli/send.ts'), 'nosuchfile.json'], { cwd: root }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr ?? '' }),
    );

    // Assess
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('nosuchfile.json: no such file');
    expect(outcome.stderr).not.toContain('ENOENT');
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
  });
});
