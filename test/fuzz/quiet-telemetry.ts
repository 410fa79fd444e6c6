/**
 * Silences Powertools logs and EMF metrics for copies built after the call: thousands of fuzzed invocations
 * would otherwise write several lines each. Powertools reads these variables when a Logger or Metrics is
 * constructed. Returns a function restoring the previous values.
 */
export function quietTelemetry(): () => void {
  const saved = { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED };
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
