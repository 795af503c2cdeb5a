/** Shared option parsing for CLI commands (node:util parseArgs, strict: unknown options fail). */

import { readFile } from 'node:fs/promises';
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

/** The positionals a command takes, by name; too few or too many is a usage error. */
export function positionals(
  args: ParsedArgs,
  names: readonly string[],
  optional: number,
  usage: string,
): string[] {
  const got = args.positionals;
  const min = names.length - optional;
  if (got.length < min)
    throw new TandemError(
      'TANDEM_E_CONFIG',
      `missing ${names.slice(got.length, min).join(' and ')}\n\n${usage}`,
    );
  if (got.length > names.length)
    throw new TandemError('TANDEM_E_CONFIG', `unexpected argument '${got[names.length]}'\n\n${usage}`);
  return got;
}

export function dataDirOf(args: ParsedArgs): string {
  return (args.values['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR;
}

/** A whole number option within [min, max]. */
export function intOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new TandemError(
      'TANDEM_E_CONFIG',
      `--${name} must be a whole number from ${min} to ${max}, got '${value}'`,
    );
  return n;
}

/** Aborts on Ctrl-C or SIGTERM: how following commands (logs -f, monitor, status --watch) stop. */
export function untilInterrupted(): AbortSignal {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}

/** A JSON command-line argument, inline or `@file`; `what` names it in errors. */
export async function readJsonArgument(arg: string, what: string): Promise<unknown> {
  let text = arg;
  if (arg.startsWith('@')) {
    try {
      text = await readFile(arg.slice(1), 'utf8');
    } catch (err) {
      throw new TandemError('TANDEM_E_CONFIG', `cannot read ${arg.slice(1)}: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TandemError('TANDEM_E_CONFIG', `${what} is not JSON: ${(err as Error).message}`);
  }
}
