/** The bench's one table: its rows, min / median / max spreads, and the text and Markdown renderings. */

export interface Spread { min: number; median: number; max: number }

/** one row of the table; the cells are text, `data` the numbers behind them (for the JSON) */
export interface Row {
  measure: string;
  /** 1-minute load average when the row started */
  load: number;
  single?: string;
  reference?: string;
  measured?: string;
  ratio?: string;
  cpuReference?: string;
  cpuMeasured?: string;
  target?: string;
  /** what else the row measured (memory, Redis bytes) */
  notes?: string;
  data?: unknown;
}

const COLUMNS: [keyof Row, string][] = [
  ['measure', 'measure'], ['load', 'load'], ['single', 'raw, 1 msg/event'], ['reference', 'raw batched (or reference)'],
  ['measured', 'pipeline (or ours)'], ['ratio', 'ratio'], ['cpuReference', 'CPU µs/event, reference'],
  ['cpuMeasured', 'CPU µs/event, pipeline'], ['target', 'target'], ['notes', 'notes'],
];

export const fmt = (n: number, digits = 0) => (Number.isFinite(n)
  ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted.at(-1)! };
}

/** `min / median / max`, or one number when they agree (a single run) */
export const spreadText = (s: Spread, digits = 0) => (s.min === s.max ? fmt(s.median, digits)
  : `${fmt(s.min, digits)} / ${fmt(s.median, digits)} / ${fmt(s.max, digits)}`);

function cellText(row: Row, key: keyof Row): string {
  const value = row[key];
  if (key === 'load') return fmt(value as number, 1);
  return value === undefined ? '' : String(value);
}

export function textTable(rows: Row[]): string {
  const cells = [COLUMNS.map(([, title]) => title), ...rows.map((row) => COLUMNS.map(([key]) => cellText(row, key)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const last = COLUMNS.length - 1;
  return cells.map((r) => r.map((cell, i) => (i && i < last ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function markdownTable(rows: Row[]): string {
  const escape = (s: string) => s.replaceAll('|', '\\|');
  return [
    `| ${COLUMNS.map(([, title]) => title).join(' | ')} |`,
    `| --- | ${COLUMNS.slice(1, -1).map(() => '---:').join(' | ')} | --- |`,
    ...rows.map((row) => `| ${COLUMNS.map(([key]) => escape(cellText(row, key))).join(' | ')} |`),
  ].join('\n');
}
