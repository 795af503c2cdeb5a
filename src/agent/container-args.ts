/**
 * `docker run` / `podman run` arguments from an IoT Edge docker module: image, environment,
 * and the part of `createOptions` (the Docker Engine API's container-create body) that has a
 * faithful CLI flag. Pure: no I/O.
 *
 * Mapped: Env, Cmd, Entrypoint, WorkingDir, User, Hostname, Labels, ExposedPorts, StopSignal,
 * Tty; HostConfig.Binds, PortBindings, NetworkMode, Privileged, Memory, MemorySwap, NanoCpus,
 * CpuShares, CapAdd, CapDrop, Devices, ExtraHosts, Dns, ShmSize, IpcMode, PidMode,
 * ReadonlyRootfs, SecurityOpt, Tmpfs.
 * Ignored on purpose: HostConfig.RestartPolicy (Tandem applies the module's restartPolicy),
 * HostConfig.LogConfig (logs go to Tandem's module log). Anything else (Mounts,
 * NetworkingConfig, Healthcheck...) is ignored too, and every ignored path is returned so the
 * agent can say so.
 */

export interface RunArgsInput {
  readonly module: string;
  readonly image: string;
  readonly createOptions: Readonly<Record<string, unknown>>;
  /** Added after createOptions.Env, so these win on a clash (as IoT Edge's env does). */
  readonly env: Readonly<Record<string, string>>;
  readonly generationId: string;
}

export interface RunArgs {
  /** Everything after the CLI name: `run -d --name tandem-{module} ... image [cmd...]`. */
  readonly args: string[];
  readonly name: string;
  /** createOptions paths not passed on, with a reason when the value had the wrong shape. */
  readonly ignored: string[];
}

/** Label keys Tandem puts on its containers. */
export const LABEL_MODULE = 'tandem.module';
export const LABEL_GENERATION = 'tandem.generation';

/** The container of a module: `tandem-{module}`, with characters Docker refuses in names replaced. */
export function containerName(module: string): string {
  return `tandem-${module.replace(/[^a-zA-Z0-9_.-]/g, '_')}`;
}

/** A mapper returns the flags for a value, or undefined when the value has the wrong shape. */
type Mapper = (value: unknown) => string[] | undefined;

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** Docker's "strslice": a list of strings, or one string meaning a list of one. */
function strslice(value: unknown): string[] | undefined {
  return typeof value === 'string' ? [value] : stringList(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text =
  (flag: string): Mapper =>
  (v) =>
    typeof v === 'string' ? [flag, v] : undefined;
const number =
  (flag: string, scale = 1): Mapper =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) ? (v === 0 ? [] : [flag, String(v / scale)]) : undefined;
const toggle =
  (flag: string): Mapper =>
  (v) =>
    typeof v === 'boolean' ? (v ? [flag] : []) : undefined;
const each =
  (flag: string): Mapper =>
  (v) =>
    stringList(v)?.flatMap((s) => [flag, s]);
const pairs =
  (flag: string, join: (k: string, v: string) => string): Mapper =>
  (v) => {
    if (!isRecord(v)) return undefined;
    const entries = Object.entries(v);
    if (!entries.every(([, x]) => typeof x === 'string')) return undefined;
    return entries.flatMap(([k, x]) => [flag, join(k, x as string)]);
  };

/** {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} -> --publish 8080:80/tcp */
const portBindings: Mapper = (v) => {
  if (!isRecord(v)) return undefined;
  const out: string[] = [];
  for (const [port, bindings] of Object.entries(v)) {
    if (!Array.isArray(bindings)) return undefined;
    for (const b of bindings) {
      if (!isRecord(b)) return undefined;
      const ip = typeof b.HostIp === 'string' ? b.HostIp : '';
      const hostPort = typeof b.HostPort === 'string' ? b.HostPort : '';
      const spec = ip !== '' ? `${ip}:${hostPort}:${port}` : hostPort !== '' ? `${hostPort}:${port}` : port;
      out.push('--publish', spec);
    }
  }
  return out;
};

/** [{"PathOnHost": "/dev/ttyUSB0", "PathInContainer": "/dev/ttyUSB0", "CgroupPermissions": "rwm"}] */
const devices: Mapper = (v) => {
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const d of v) {
    if (!isRecord(d) || typeof d.PathOnHost !== 'string') return undefined;
    const parts = [d.PathOnHost];
    if (typeof d.PathInContainer === 'string') parts.push(d.PathInContainer);
    if (typeof d.CgroupPermissions === 'string') parts.push(d.CgroupPermissions);
    out.push('--device', parts.join(':'));
  }
  return out;
};

const topLevel: Readonly<Record<string, Mapper>> = {
  Env: each('--env'),
  WorkingDir: text('--workdir'),
  User: text('--user'),
  Hostname: text('--hostname'),
  Labels: pairs('--label', (k, v) => `${k}=${v}`),
  ExposedPorts: (v) => (isRecord(v) ? Object.keys(v).flatMap((p) => ['--expose', p]) : undefined),
  StopSignal: text('--stop-signal'),
  Tty: toggle('--tty'),
};

const hostConfig: Readonly<Record<string, Mapper>> = {
  Binds: each('--volume'),
  PortBindings: portBindings,
  NetworkMode: text('--network'),
  Privileged: toggle('--privileged'),
  Memory: number('--memory'),
  MemorySwap: number('--memory-swap'),
  NanoCpus: number('--cpus', 1e9),
  CpuShares: number('--cpu-shares'),
  CapAdd: each('--cap-add'),
  CapDrop: each('--cap-drop'),
  Devices: devices,
  ExtraHosts: each('--add-host'),
  Dns: each('--dns'),
  ShmSize: number('--shm-size'),
  IpcMode: text('--ipc'),
  PidMode: text('--pid'),
  ReadonlyRootfs: toggle('--read-only'),
  SecurityOpt: each('--security-opt'),
  Tmpfs: pairs('--tmpfs', (k, v) => (v === '' ? k : `${k}:${v}`)),
};

/** Applies a table to one level of createOptions; `skip` keys are handled elsewhere. */
function mapLevel(
  level: Readonly<Record<string, unknown>>,
  table: Readonly<Record<string, Mapper>>,
  prefix: string,
  skip: readonly string[],
  ignored: string[],
): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(level)) {
    if (skip.includes(key) || value === undefined || value === null) continue;
    const mapper = table[key];
    const flags = mapper?.(value);
    if (mapper === undefined) ignored.push(`${prefix}${key}`);
    else if (flags === undefined) ignored.push(`${prefix}${key} (unexpected value)`);
    else out.push(...flags);
  }
  return out;
}

/** The full `run` argument list; see the file comment for what is mapped and ignored. */
export function buildRunArgs(input: RunArgsInput): RunArgs {
  const name = containerName(input.module);
  const ignored: string[] = [];
  const opts = input.createOptions;
  const args = ['run', '--detach', '--name', name];
  args.push(
    '--label',
    `${LABEL_MODULE}=${input.module}`,
    '--label',
    `${LABEL_GENERATION}=${input.generationId}`,
  );
  args.push(...mapLevel(opts, topLevel, '', ['HostConfig', 'Cmd', 'Entrypoint'], ignored));
  const host = opts.HostConfig;
  if (isRecord(host)) args.push(...mapLevel(host, hostConfig, 'HostConfig.', [], ignored));
  else if (host !== undefined && host !== null) ignored.push('HostConfig (unexpected value)');
  for (const [k, v] of Object.entries(input.env)) args.push('--env', `${k}=${v}`);
  const cmd = opts.Cmd === undefined || opts.Cmd === null ? [] : strslice(opts.Cmd);
  if (cmd === undefined) ignored.push('Cmd (unexpected value)');
  let entryRest: string[] = [];
  if (opts.Entrypoint !== undefined && opts.Entrypoint !== null) {
    const entry = strslice(opts.Entrypoint);
    if (entry === undefined) ignored.push('Entrypoint (unexpected value)');
    else {
      // The CLI takes one entrypoint word; the rest of the API's list goes before Cmd, which
      // is how the engine runs Entrypoint + Cmd anyway. An empty list resets the entrypoint.
      args.push('--entrypoint', entry[0] ?? '');
      entryRest = entry.slice(1);
    }
  }
  args.push(input.image, ...entryRest, ...(cmd ?? []));
  return { args, name, ignored };
}
