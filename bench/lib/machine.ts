/** What a benchmark ran on, printed above its tables. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { compiled } from './proc.js';

export function machineLine(): string {
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // Not Linux: os.cpus() is good enough.
  }
  const gb = Math.round(os.totalmem() / 2 ** 30);
  const mode = compiled ? 'compiled (dist/)' : 'tsx (sources)';
  const root = process.env.TANDEM_ROOT ? ` · tandem from TANDEM_ROOT=${process.env.TANDEM_ROOT}` : '';
  return `${new Date().toISOString()} · ${os.availableParallelism()} vCPU ${cpu} · ${gb} GB · Node ${process.version} · ${mode}${root}`;
}
