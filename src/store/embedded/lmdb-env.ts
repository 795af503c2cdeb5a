/**
 * Opens the one LMDB environment of an embedded store, with the options that make a
 * resolved write a durable one, and its four named databases.
 *
 * Options, and why:
 * - `overlappingSync: false`. lmdb-js enables it by default on Linux, and then a write's
 *   promise resolves when the transaction is *visible*, before it is flushed (the flush is a
 *   separate `flushed` promise). With it off, LMDB's classic commit runs on the write thread:
 *   pwrite the pages, fdatasync the data file, then write the meta page through a second
 *   descriptor opened O_DSYNC. The promise resolves after all of that (G1).
 * - `noSync` and `noMetaSync` are left off (the defaults): either would drop a flush above.
 * - `eventTurnBatching: false`. We batch ourselves (group-commit.ts). lmdb-js's event-turn
 *   batching also queues a hidden "batch start" write whose promise nobody observes; when a
 *   commit fails (a full disk) that promise rejects unhandled and Node ends the process.
 * - `useWritemap` stays off: with it, a stray pointer could scribble on the map, and a full
 *   disk could surface as SIGBUS on a page fault instead of an error from pwrite.
 * - `permissionsMode: 0o600`: identities with keys live in the key-value map.
 * - `mapSize` is only a starting size: lmdb-js's LMDB fork grows the map instead of
 *   returning MDB_MAP_FULL, so the store's size cap is enforced by space.ts, not by LMDB.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, open, type RootDatabase, type RootDatabaseOptionsWithPath } from 'lmdb';

export type BinaryDb = Database<Buffer, Buffer>;

export interface LmdbEnv {
  readonly root: RootDatabase<Buffer, Buffer>;
  readonly log: BinaryDb;
  readonly checkpoints: BinaryDb;
  readonly kv: BinaryDb;
  readonly meta: BinaryDb;
}

const dirMode = 0o700;
const fileMode = 0o600;
/** Where the map starts; it grows by itself, see above. */
const initialMapBytes = 16 * 1024 * 1024;
/** Log, checkpoints, kv, meta, with room to add one later without a format change. */
const namedDbsMax = 8;

export function openLmdbEnv(dir: string): LmdbEnv {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: dirMode });
  const options: RootDatabaseOptionsWithPath & { permissionsMode: number } = {
    path: dir,
    maxDbs: namedDbsMax,
    mapSize: initialMapBytes,
    overlappingSync: false,
    noSync: false,
    noMetaSync: false,
    useWritemap: false,
    eventTurnBatching: false,
    encoding: 'binary',
    keyEncoding: 'binary',
    permissionsMode: fileMode,
  };
  const root = open<Buffer, Buffer>(options);
  // The files may predate this process with a looser mode (another tool, an old version).
  for (const file of ['data.mdb', 'lock.mdb']) {
    const path = join(dir, file);
    if (existsSync(path)) chmodSync(path, fileMode);
  }
  const db = (name: string): BinaryDb =>
    root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
  return { root, log: db('log'), checkpoints: db('checkpoints'), kv: db('kv'), meta: db('meta') };
}
