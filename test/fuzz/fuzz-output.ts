/** Env for `stack.copy`: fuzzed invocations log nothing (thousands of them would write several lines each). */
export const SILENT_LOGS = { LOG_LEVEL: 'SILENT' } as const;

const QUIET_METRICS_ENV = {
  POWERTOOLS_METRICS_DISABLED: 'true',
  // Routes what Metrics still prints (a warning when an invocation added none) through the runner's console.
  POWERTOOLS_DEV: 'true',
} as const;

/**
 * Turns Powertools EMF metrics off for copies built after the call: Metrics writes straight to stdout,
 * around the test runner's console handling, and reads these variables when constructed. Returns a
 * function restoring the previous values.
 */
export function quietMetrics(): () => void {
  const saved = Object.fromEntries(Object.keys(QUIET_METRICS_ENV).map((name) => [name, process.env[name]]));
  Object.assign(process.env, QUIET_METRICS_ENV);
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  };
}

/**
 * Prints one line even when the suite runs with `silent: 'passed-only'` (which hides console output of
 * passing tests): fuzz case counts and timings are wanted on every run.
 */
export function reportLine(line: string): void {
  process.stdout.write(`${line}\n`);
}
