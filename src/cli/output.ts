/** How commands write: colour only for a terminal (and never with NO_COLOR), JSON as one line. */

export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold';

const SGR: Record<Colour, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/** https://no-color.org: any non-empty NO_COLOR turns colour off; pipes and files never get it. */
export function useColor(stream: { isTTY?: boolean } = process.stdout, env = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export function paint(on: boolean, colour: Colour, text: string): string {
  if (!on || text === '') return text;
  const [open, close] = SGR[colour];
  return `\u001b[${open}m${text}\u001b[${close}m`;
}

/** Printable width: what a terminal shows once colour escapes are left out. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape is the point
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/**
 * `tandem monitor | head`: when the reader of stdout goes away there is nobody left to
 * tell anything, so end quietly instead of crashing on EPIPE. Not for `up`, whose work
 * does not depend on anyone reading its output.
 */
export function exitWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

/** Cuts to `width` characters with an ellipsis, so a long name cannot break a table. */
export function fit(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
  /** The one column that shrinks (with an ellipsis) when the table is wider than allowed. */
  readonly flexible?: boolean;
  /** Columns that may be left out on a narrow screen: the highest number goes first. */
  readonly dropOrder?: number;
}

function columnWidths(columns: readonly Column[], rows: readonly (readonly string[])[]): number[] {
  return columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
}

/** Which columns to keep so the table fits `width`, leaving out droppable ones as needed. */
function keptColumns(columns: readonly Column[], widths: readonly number[], width: number): number[] {
  const kept = columns.map((_, i) => i);
  const minWidth = (): number =>
    kept.reduce((n, i) => n + (columns[i]!.flexible ? columns[i]!.header.length : widths[i]!), 0) +
    2 * (kept.length - 1);
  const droppable = kept
    .filter((i) => columns[i]!.dropOrder !== undefined)
    .sort((a, b) => columns[b]!.dropOrder! - columns[a]!.dropOrder!);
  for (const i of droppable) {
    if (minWidth() <= width) break;
    kept.splice(kept.indexOf(i), 1);
  }
  return kept;
}

/**
 * A plain text table, two spaces between columns, at most `width` wide when a flexible
 * column and droppable columns can absorb it. Cells may carry colour: widths count visible
 * characters only.
 */
export function table(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  width = 80,
): string[] {
  const all = columnWidths(columns, rows);
  const kept = keptColumns(columns, all, width);
  const cols = kept.map((i) => columns[i]!);
  const widths = kept.map((i) => all[i]!);
  const total = widths.reduce((a, b) => a + b, 0) + 2 * (cols.length - 1);
  const flex = cols.findIndex((c) => c.flexible);
  if (total > width && flex >= 0)
    widths[flex] = Math.max(cols[flex]!.header.length, widths[flex]! - (total - width));
  const line = (cells: readonly string[]): string =>
    kept
      .map((ci, i) => {
        const cell = cells[ci] ?? '';
        const w = widths[i]!;
        const shown = visibleLength(cell) > w ? fit(cell, w) : cell;
        const pad = ' '.repeat(Math.max(0, w - visibleLength(shown)));
        return cols[i]!.align === 'right' ? pad + shown : shown + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}
