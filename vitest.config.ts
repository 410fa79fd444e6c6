import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Logs and EMF lines of passing tests are noise; failing tests still show theirs.
    silent: 'passed-only',
    globalSetup: ['test/setup/secret-scan.global.ts'],
    setupFiles: ['test/setup/output-capture.ts'],
  },
});
