/** Backfill files for the push tests, with the users each should leave in IM and the lines it must reject. */
import { writeFileSync } from 'node:fs';

export interface BadLine {
  readonly line: number;
  readonly rule: string;
  readonly path: string;
}

export interface CsvBackfill {
  /** Account → the attributes IM must hold after the push, given `seeded` before it. */
  readonly expected: Map<string, Record<string, string>>;
  readonly bad: BadLine[];
  readonly lines: number;
}

const CITIES = ['Paris', '深圳', 'Lagos', 'Lima', 'São Paulo, SP'];

/**
 * A CSV of `rows` users (`To_Account,city,tier,lang`), one row in 100 breaking a rule in turn. The first
 * `seededTier` accounts hold tier "seed" in IM beforehand: even ones leave the cell empty (kept), odd ones `\N`
 * (removed).
 */
export function writeCsvBackfill(file: string, rows: number, seededTier: number): CsvBackfill {
  const expected = new Map<string, Record<string, string>>();
  const bad: BadLine[] = [];
  const out: string[] = ['To_Account,city,tier,lang'];
  for (let i = 0; i < rows; i++) {
    const line = i + 2;
    const account = `bf-${i}`;
    const city = CITIES[i % CITIES.length] ?? 'Paris';
    const quotedCity = city.includes(',') ? `"${city}"` : city;
    if (i % 100 === 50) {
      const kind = (i / 100) % 4;
      if (kind < 1) {
        out.push(`${account},${'x'.repeat(51)},gold,en`);
        bad.push({ line, rule: 'value-max-50-bytes', path: 'Attrs.city' });
      } else if (kind < 2) {
        out.push(`,${quotedCity},gold,en`);
        bad.push({ line, rule: 'to-account-required', path: 'To_Account' });
      } else if (kind < 3) {
        out.push(`${account},${quotedCity}`);
        bad.push({ line, rule: 'csv-fields-must-match-header', path: '' });
      } else {
        out.push(`${'a'.repeat(33)},${quotedCity},gold,en`);
        bad.push({ line, rule: 'to-account-max-32-bytes', path: 'To_Account' });
      }
      continue;
    }
    const attrs: Record<string, string> = { city };
    let tierCell: string;
    if (i < seededTier) {
      tierCell = i % 2 === 0 ? '' : '\\N';
      if (i % 2 === 0) attrs['tier'] = 'seed';
    } else {
      tierCell = `t${i % 3}`;
      attrs['tier'] = tierCell;
    }
    const lang = i % 7 === 0 ? '' : 'en';
    if (lang !== '') attrs['lang'] = lang;
    out.push(`${account},${quotedCity},${tierCell},${lang}`);
    expected.set(account, attrs);
  }
  writeFileSync(file, `${out.join('\n')}\n`);
  return { expected, bad, lines: rows };
}

/** An NDJSON file of `rows` valid users `nd-0…`, in order. */
export function writeNdjsonUsers(file: string, rows: number, prefix = 'nd'): string[] {
  const accounts: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const account = `${prefix}-${i}`;
    accounts.push(account);
    lines.push(
      JSON.stringify({ To_Account: account, Attrs: { city: `c${i % 50}`, tier: i % 9 === 0 ? null : 'gold' } }),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return accounts;
}
