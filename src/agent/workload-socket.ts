/**
 * Where a module's workload socket lives and how its file is prepared. IoT Edge >= 1.2 gives
 * every module its own socket (`/run/iotedge/mnt/{module}.sock`, mounted into the module as
 * `/var/run/iotedge/workload.sock`), so a module can only reach the endpoint that signs for
 * itself; Tandem does the same with one file per module under the data directory.
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';

/**
 * Characters a socket path may hold and still survive the Node SDK, which reads the path back
 * with the legacy `url.parse(IOTEDGE_WORKLOADURI).pathname`: that escapes spaces and quotes
 * (`%20`, `%27`) and cuts at `?` and `#`, so the SDK would dial a different file.
 */
const uriSafePath = /^[A-Za-z0-9._~/+,=:@-]+$/;

function fits(candidate: string): boolean {
  return Buffer.byteLength(candidate, 'utf8') <= limits.unixSocketPathBytesMax && uriSafePath.test(candidate);
}

function shortHash(text: string, hexChars: number): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, hexChars);
}

/**
 * The socket of `moduleId`'s workload API:
 *
 * 1. `{dataDir}/run/workload/{moduleId}.sock` when that path fits in a unix socket address
 *    (limits.unixSocketPathBytesMax) and holds only URI-safe characters;
 * 2. else `{os.tmpdir()}/tandem-wl-{h}/{moduleId}.sock`, where `{h}` is the first 16 hex digits
 *    of SHA-256 of the absolute data directory: a deep data directory still gets a short path,
 *    and two data directories never share one;
 * 3. else the same directory with `m-{first 24 hex digits of SHA-256 of the module id}.sock`
 *    (module ids run to 128 characters and may hold `?` or `'`).
 *
 * TANDEM_E_CONFIG when even 3 does not fit (an absurdly long TMPDIR).
 */
export function workloadSocketPath(dataDir: string, moduleId: string): string {
  const absolute = path.resolve(dataDir);
  const preferred = path.join(absolute, 'run', 'workload', `${moduleId}.sock`);
  if (fits(preferred)) return preferred;
  const shortDir = path.join(os.tmpdir(), `tandem-wl-${shortHash(absolute, 16)}`);
  const named = path.join(shortDir, `${moduleId}.sock`);
  if (fits(named)) return named;
  const hashed = path.join(shortDir, `m-${shortHash(moduleId, 24)}.sock`);
  if (fits(hashed)) return hashed;
  throw new TandemError(
    'TANDEM_E_CONFIG',
    `no usable workload socket path for module ${moduleId}: ${hashed} is longer than ` +
      `${limits.unixSocketPathBytesMax} bytes or not URI-safe; set TMPDIR to a short path`,
  );
}

/** The IOTEDGE_WORKLOADURI for a socket, in iotedged's `unix://{absolute path}` form. */
export function workloadUri(socketPath: string): string {
  if (!path.isAbsolute(socketPath)) {
    throw new TandemError('TANDEM_E_CONFIG', `workload socket path must be absolute: ${socketPath}`);
  }
  return `unix://${socketPath}`;
}

function refuse(message: string, cause?: unknown): TandemError {
  return new TandemError('TANDEM_E_WORKLOAD', message, cause === undefined ? undefined : { cause });
}

/**
 * Makes the socket's directory ours and private (0700), and removes a socket file a previous
 * run left behind. The directory may sit in a shared /tmp (the fallback path), so one that is
 * a symlink or belongs to another user is refused rather than trusted; anything at the socket
 * path that is not a socket is left alone and refused too.
 */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  const dir = path.dirname(socketPath);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw refuse(`workload socket directory ${dir} is not a directory owned by this user`);
  }
  // mkdir leaves an existing directory's mode as it was, and umask may have narrowed ours.
  if ((st.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
  let existing: Awaited<ReturnType<typeof lstat>>;
  try {
    existing = await lstat(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw refuse(`cannot inspect ${socketPath}`, err);
  }
  if (!existing.isSocket()) throw refuse(`${socketPath} exists and is not a socket; not removing it`);
  await unlink(socketPath);
}
