/** Reading a manifest file for `deploy` and `validate`, and saying what is wrong with one. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseManifestText } from '../core/manifest/index.js';
import { TandemError } from '../errors.js';

export interface ManifestFile {
  /** Absolute path; its directory is where relative module paths are resolved. */
  readonly file: string;
  readonly manifest: unknown;
}

/** Reads and parses strictly (duplicate keys refused): TANDEM_E_MANIFEST with line and column. */
export async function readManifest(file: string): Promise<ManifestFile> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new TandemError('TANDEM_E_CONFIG', `cannot read manifest ${abs}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { file: abs, manifest: parseManifestText(text) };
}

/** One problem of a TANDEM_E_MANIFEST error's details, as `path: what was expected`. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** Every problem an error carries (details.errors), or the error itself as one. */
export function manifestProblems(err: TandemError): Problem[] {
  const errors = err.details.errors;
  if (!Array.isArray(errors) || errors.length === 0) {
    const p = typeof err.details.path === 'string' ? err.details.path : '';
    return [
      {
        path: p,
        message: p && err.message.startsWith(`${p}: `) ? err.message.slice(p.length + 2) : err.message,
      },
    ];
  }
  return errors.map((e: unknown) => {
    if (typeof e === 'string') return { path: '', message: e };
    const o = (e ?? {}) as { path?: unknown; expected?: unknown; message?: unknown };
    const message =
      typeof o.expected === 'string' ? o.expected : typeof o.message === 'string' ? o.message : String(e);
    return { path: typeof o.path === 'string' ? o.path : '', message };
  });
}

export function formatProblem(p: Problem): string {
  return p.path ? `${p.path}: ${p.message}` : p.message;
}
