/**
 * The data directory's layout and its small settings files: `config.json` (hub name and
 * edge device id, fixed at first start so connection strings stay valid) and `ports.json`
 * (where a running instance listens, for the CLI and tests; never a fixed port table).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface DataDirConfig {
  readonly hubName: string;
  readonly edgeDeviceId: string;
}

export interface PortsFile {
  readonly pid: number;
  readonly mqtts?: number;
  readonly mqtt?: number;
  readonly api: number;
  readonly host: string;
}

export const DEFAULT_HUB_NAME = 'tandem.local';
export const DEFAULT_EDGE_DEVICE_ID = 'tandem-edge';

export function storeDir(dataDir: string): string {
  return path.join(dataDir, 'store');
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** Settings chosen at first start; explicit options override and are remembered. */
export async function loadConfig(dataDir: string, overrides: Partial<DataDirConfig>): Promise<DataDirConfig> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'config.json');
  const current = await readJson<DataDirConfig>(file);
  const config: DataDirConfig = {
    hubName: overrides.hubName ?? current?.hubName ?? DEFAULT_HUB_NAME,
    edgeDeviceId: overrides.edgeDeviceId ?? current?.edgeDeviceId ?? DEFAULT_EDGE_DEVICE_ID,
  };
  if (JSON.stringify(config) !== JSON.stringify(current)) await writeJsonAtomic(file, config);
  return config;
}

export async function writePorts(dataDir: string, ports: PortsFile): Promise<void> {
  await writeJsonAtomic(path.join(dataDir, 'ports.json'), ports);
}

export function readPorts(dataDir: string): Promise<PortsFile | undefined> {
  return readJson<PortsFile>(path.join(dataDir, 'ports.json'));
}
