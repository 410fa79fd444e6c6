/** Reads the EMF documents (CloudWatch Embedded Metric Format) and log lines code writes to stdout. */
import { vi } from 'vitest';

export interface EmfLine {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

/** Runs `act` and returns the EMF documents and log lines it wrote to stdout. */
export async function captureStdout(act: () => unknown): Promise<{ emf: EmfLine[]; logs: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  const docs = lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  return { emf: docs.filter((d): d is EmfLine => '_aws' in d), logs: docs.filter((d) => !('_aws' in d)) };
}

/** Sum of a metric across EMF documents, optionally only those with a dimension value. */
export function total(emf: EmfLine[], name: string, dimension?: [string, string]): number {
  return emf
    .filter((d) => d._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name)))
    .filter((d) => dimension === undefined || d[dimension[0]] === dimension[1])
    .reduce((sum, d) => {
      const v = d[name];
      return sum + (Array.isArray(v) ? v.reduce((a: number, x) => a + Number(x), 0) : Number(v));
    }, 0);
}

/** How many values of a metric the EMF documents hold (Powertools writes one value bare, several as an array). */
export function samples(emf: EmfLine[], name: string): number {
  return emf.reduce((n, d) => {
    const v = d[name];
    return n + (Array.isArray(v) ? v.length : v === undefined ? 0 : 1);
  }, 0);
}

/** The dimension sets each EMF document declares for a metric. */
export function dimensionSetsOf(emf: EmfLine[], name: string): string[][][] {
  return emf.flatMap((d) =>
    d._aws.CloudWatchMetrics.filter((m) => m.Metrics.some((x) => x.Name === name)).map((m) => m.Dimensions),
  );
}
