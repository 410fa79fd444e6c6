/** The built-in prototypes a polluting merge would reach. */
const WATCHED = {
  'Object.prototype': Object.prototype,
  'Array.prototype': Array.prototype,
  'Function.prototype': Function.prototype,
} as const;

const ownKeys = (target: object): string[] => Reflect.ownKeys(target).map(String);

/**
 * Records the own keys of the built-in prototypes now; the returned function lists what differs later
 * (keys added or removed, or `({}).polluted` readable), empty when nothing changed.
 */
export function snapshotPrototypes(): () => string[] {
  const before = new Map(Object.entries(WATCHED).map(([name, target]) => [name, new Set(ownKeys(target))]));
  return () => {
    const changes: string[] = [];
    for (const [name, target] of Object.entries(WATCHED)) {
      const was = before.get(name) ?? new Set<string>();
      const now = new Set(ownKeys(target));
      for (const key of now) if (!was.has(key)) changes.push(`${name}.${key} added`);
      for (const key of was) if (!now.has(key)) changes.push(`${name}.${key} removed`);
    }
    if (({} as Record<string, unknown>).polluted !== undefined) changes.push('({}).polluted is readable');
    return changes;
  };
}
