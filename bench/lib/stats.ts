/** Percentiles, medians and markdown tables for benchmark output. */

/** Nearest-rank percentile of `values` (not modified); NaN for no values. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function max(values: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) m = Math.max(m, values[i]!);
  return values.length === 0 ? Number.NaN : m;
}

/** A number with thousands separators and `digits` decimals; '-' for NaN. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A markdown table; columns after the first `leftColumns` are right-aligned. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly string[][],
  leftColumns = 1,
): string {
  const align = headers.map((_, i) => (i < leftColumns ? '---' : '---:'));
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(align), ...rows.map(line)].join('\n');
}
