/**
 * File handling for the hub's TLS material: a private directory, atomic writes, and reads that
 * tell "missing" apart from "unreadable".
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TandemError } from '../errors.js';

/** Private keys: owner read/write only, so other local users cannot impersonate the hub. */
export const KEY_FILE_MODE = 0o600;
/** Certificates are public; readable by all so operators can copy ca.pem to devices. */
export const CERT_FILE_MODE = 0o644;
/** The tls directory holds private keys; nobody but the owner may list or enter it. */
export const TLS_DIR_MODE = 0o700;

function tlsError(message: string, path: string, cause: unknown): TandemError {
  return new TandemError('TANDEM_E_TLS', message, { cause, details: { path } });
}

/** Create the directory (and parents) private, and tighten it when it already exists looser. */
export async function ensurePrivateDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: TLS_DIR_MODE });
    const st = await stat(path);
    if ((st.mode & 0o777) !== TLS_DIR_MODE) await chmod(path, TLS_DIR_MODE);
  } catch (err) {
    throw tlsError(`cannot create TLS directory ${path}`, path, err);
  }
}

/** The file's text, or undefined when it does not exist; any other failure is an error. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw tlsError(`cannot read ${path}`, path, err);
  }
}

/** A key file someone made group/world-readable (copy, restore from backup) is made private again. */
export async function tightenKeyMode(path: string): Promise<void> {
  try {
    const st = await stat(path);
    if ((st.mode & 0o077) !== 0) await chmod(path, KEY_FILE_MODE);
  } catch (err) {
    throw tlsError(`cannot restrict permissions of ${path}`, path, err);
  }
}

/**
 * Write via a temporary file in the same directory, fsync, rename, fsync the directory: a crash
 * leaves the old file or the new one, never a torn PEM. The temp file is created with the final
 * mode, so a private key is never readable by others even for an instant.
 */
export async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      // chmod because the umask may have removed bits from `mode` (e.g. 0644 -> 0600).
      await fh.chmod(mode);
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw tlsError(`cannot write ${path}`, path, err);
  }
}
