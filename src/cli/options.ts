/** Shared option parsing for CLI commands (node:util parseArgs, strict: unknown options fail). */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { TandemError } from '../errors.js';

export const DEFAULT_DATA_DIR = '.tandem';

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

export function parse(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  usage: string,
): ParsedArgs | undefined {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help) {
      process.stdout.write(usage);
      return undefined;
    }
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    throw new TandemError('TANDEM_E_CONFIG', `${(err as Error).message}\n\n${usage}`);
  }
}

export function portOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new TandemError('TANDEM_E_CONFIG', `--${name} must be a port number (0-65535), got '${value}'`);
  return n;
}
