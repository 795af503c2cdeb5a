/**
 * Renders an instance's status (the `GET /api/v1/status` shape) for people. Pure: data in,
 * text out. `tandem status` uses it, and so does `tandem up`'s live view: `renderStatus` for
 * a terminal (compact, fits 80 columns, colour on request), `renderStatusLines` for a log
 * or pipe (one `key=value` line per thing, a timestamp on each, never colour).
 */
import type { ModuleState, ModuleStatus } from '../agent/face.js';
import type { StatusResponse } from '../api/types.js';
import type { EndpointStatus } from '../hub/hub.js';
import { type Colour, fit, paint, table } from './output.js';

export interface RenderStatusOptions {
  /** ANSI colour; callers decide with useColor() (a TTY and no NO_COLOR). */
  readonly color: boolean;
  /** Columns available; default 80 (also for 0, as some pseudo-terminals report), at least 40. */
  readonly width?: number;
}

const MIN_WIDTH = 40;

const STATE_COLOUR: Record<ModuleState, Colour> = {
  running: 'green',
  starting: 'cyan',
  stopped: 'dim',
  backoff: 'yellow',
  unhealthy: 'yellow',
  failed: 'red',
};

/** Exit column: the code, or the signal without its SIG prefix; '-' while running. */
function exitText(m: ModuleStatus): string {
  if (m.exitCode !== undefined) return String(m.exitCode);
  if (m.signal !== undefined) return m.signal.replace(/^SIG/, '');
  return '-';
}

function clock(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(11, 19);
}

function headerLines(s: StatusResponse, o: RenderStatusOptions, width: number): string[] {
  const ports = Object.entries(s.ports)
    .map(([k, v]) => `${k} ${v}`)
    .join('  ');
  const rest = ` @ ${s.hubName}  ${ports ? `${ports}  ` : ''}clients ${s.connected.length}`;
  const plain = `${s.edgeDeviceId}${rest}`;
  const out = [plain.length > width ? fit(plain, width) : `${paint(o.color, 'bold', s.edgeDeviceId)}${rest}`];
  if (s.deployment)
    out.push(fit(`deployment ${s.deployment.hash}  applied ${s.deployment.appliedAt}`, width));
  return out;
}

function moduleLines(modules: readonly ModuleStatus[], o: RenderStatusOptions, width: number): string[] {
  if (modules.length === 0) return ['modules: none deployed'];
  const rows = modules.map((m) => [
    m.name,
    m.type,
    m.desired,
    paint(o.color, STATE_COLOUR[m.state] ?? 'bold', m.state),
    String(m.restartCount),
    exitText(m),
    m.pid === undefined ? '-' : String(m.pid),
    String(m.queueLength),
  ]);
  const out = table(
    [
      { header: 'MODULE', flexible: true },
      { header: 'TYPE', dropOrder: 3 },
      { header: 'DESIRED', dropOrder: 2 },
      { header: 'STATE' },
      { header: 'RESTARTS', align: 'right' },
      { header: 'EXIT', align: 'right' },
      { header: 'PID', align: 'right', dropOrder: 1 },
      { header: 'QUEUE', align: 'right' },
    ],
    rows,
    width,
  );
  // Errors get a line of their own under the table: they are long and matter more than columns.
  for (const m of modules) {
    const retry =
      m.state === 'backoff' && m.nextRestartTime ? ` (restart at ${clock(m.nextRestartTime)})` : '';
    if (m.error || retry)
      out.push(paint(o.color, 'red', fit(`  ! ${m.name}: ${m.error ?? m.state}${retry}`, width)));
  }
  return out;
}

function endpointLines(endpoints: readonly EndpointStatus[], width: number): string[] {
  if (endpoints.length === 0) return ['endpoints: none yet'];
  const rows = endpoints.map((e) => [
    e.stream,
    String(e.queueLength),
    String(e.inflight),
    String(e.delivered ?? '-'),
    String(e.expired ?? '-'),
    e.attached ? 'attached' : 'none',
  ]);
  return table(
    [
      { header: 'ENDPOINT', flexible: true },
      { header: 'QUEUED', align: 'right' },
      { header: 'INFLIGHT', align: 'right', dropOrder: 1 },
      { header: 'DELIVERED', align: 'right', dropOrder: 3 },
      { header: 'EXPIRED', align: 'right', dropOrder: 2 },
      { header: 'CONSUMER' },
    ],
    rows,
    width,
  );
}

function pick(o: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** A string field, or a nested `target`'s address (the connector reports `target: {url, ...}`). */
function targetOf(u: Record<string, unknown>): string | undefined {
  const direct = pick(u, ['target', 'host', 'hostName', 'url']);
  if (direct !== undefined) return direct;
  const t = u.target;
  return t !== null && typeof t === 'object'
    ? pick(t as Record<string, unknown>, ['url', 'hostName', 'host'])
    : undefined;
}

/**
 * The upstream connector's own report is its business; the usual fields (state or
 * connected, where to, next attempt, last error) are picked out, anything else shown as JSON.
 */
export function describeUpstream(upstream: unknown, queue: number | undefined): string | undefined {
  const q = queue === undefined ? '' : ` (queue ${queue})`;
  if (upstream === undefined) return queue === undefined ? undefined : `no connector${q}`;
  if (upstream === null || typeof upstream !== 'object') return `${String(upstream)}${q}`;
  const u = upstream as Record<string, unknown>;
  const state =
    pick(u, ['state', 'status']) ??
    (typeof u.connected === 'boolean' ? (u.connected ? 'connected' : 'disconnected') : undefined);
  const target = targetOf(u);
  const retry =
    typeof u.nextAttemptAtMs === 'number'
      ? `retry at ${clock(new Date(u.nextAttemptAtMs).toISOString())}`
      : undefined;
  const error = pick(u, ['lastError', 'error']);
  if (state === undefined && target === undefined && error === undefined)
    return `${JSON.stringify(upstream)}${q}`;
  return [state, target, retry, error ? `error: ${error}` : undefined].filter(Boolean).join('  ') + q;
}

/** A cluster replica's view in one line: who it is, who is alive, what it delivers. */
export function describeCluster(cluster: unknown): string | undefined {
  if (cluster === null || typeof cluster !== 'object') return undefined;
  const c = cluster as { replica?: string; fenced?: boolean; alive?: string[]; leases?: string[] };
  const alive = c.alive?.join(',') ?? '?';
  const leases = c.leases?.length ? c.leases.join(',') : 'none';
  return `replica=${c.replica ?? '?'} alive=${alive} delivers=${leases}${c.fenced ? ' FENCED (store unreachable)' : ''}`;
}

interface WorkloadsView {
  leader?: string | null;
  headroom?: { ok: boolean; problems: string[] };
  nodes?: { name: string; condition: string; admin: string; instances: string[] }[];
  events?: { at: string; kind: string; instance?: string; node?: string; reason: string }[];
}

/** The cluster's workloads: leader, each node and what runs there, headroom, the newest events. */
export function workloadLines(cluster: unknown, width: number): string[] {
  const w = (cluster as { workloads?: WorkloadsView } | undefined)?.workloads;
  if (!w) return [];
  const lines = [
    `scheduler: leader=${w.leader ?? 'none'} headroom=${w.headroom?.ok === false ? 'NO' : 'ok'}`,
  ];
  for (const p of w.headroom?.problems ?? []) lines.push(`  ${p}`);
  for (const n of w.nodes ?? []) {
    const state = n.admin === 'active' ? n.condition : `${n.condition},${n.admin}`;
    lines.push(`  node ${n.name} (${state}): ${n.instances.join(', ') || '-'}`);
  }
  for (const e of w.events ?? [])
    lines.push(`  ${e.at} ${e.kind} ${e.instance ?? e.node ?? ''}: ${e.reason}`);
  return lines.map((l) => fit(l, width));
}

function upstreamQueue(s: StatusResponse): number | undefined {
  return s.endpoints.find((e) => e.stream === 'upstream')?.queueLength;
}

/** The status for a terminal: header, modules table, endpoint queues, upstream line. */
export function renderStatus(status: StatusResponse, options: RenderStatusOptions): string {
  // A pseudo-terminal may report 0 columns; below ~40 no layout helps anyway.
  const width = Math.max(MIN_WIDTH, options.width || 80);
  const out = headerLines(status, options, width);
  if (status.modules) out.push('', ...moduleLines(status.modules, options, width));
  out.push('', ...endpointLines(status.endpoints, width));
  const upstream = describeUpstream(status.upstream, upstreamQueue(status));
  if (upstream) out.push('', fit(`upstream: ${upstream}`, width));
  const cluster = describeCluster(status.cluster);
  if (cluster) out.push(fit(`cluster: ${cluster}`, width));
  out.push(...workloadLines(status.cluster, width));
  return `${out.join('\n')}\n`;
}

/** `key=value`, quoting values with spaces or quotes so the line stays machine-splittable. */
function kv(pairs: Record<string, string | number | undefined>): string {
  return Object.entries(pairs)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : v}`)
    .join(' ');
}

/** The status for logs and pipes: one line per thing, each starting with the time. */
export function renderStatusLines(status: StatusResponse, options: { now?: Date } = {}): string[] {
  const t = (options.now ?? new Date()).toISOString();
  const modules = status.modules ?? [];
  const queued = status.endpoints.reduce((n, e) => n + e.queueLength, 0);
  const summary = kv({
    modules: status.modules ? modules.length : undefined,
    running: status.modules ? modules.filter((m) => m.state === 'running').length : undefined,
    clients: status.connected.length,
    queued,
    deployment: status.deployment?.hash,
  });
  const lines = [`${t} status ${summary}`];
  for (const m of modules) {
    const fields = kv({
      state: m.state,
      desired: m.desired,
      restarts: m.restartCount,
      exit: m.exitCode ?? m.signal,
      pid: m.pid,
      queue: m.queueLength,
      error: m.error,
    });
    lines.push(`${t} module ${m.name} ${fields}`);
  }
  // Every endpoint with its counters, so a log shows messages flowing between two lines.
  for (const e of status.endpoints) {
    const fields = kv({
      queued: e.queueLength,
      inflight: e.inflight,
      delivered: e.delivered,
      expired: e.expired,
    });
    lines.push(`${t} endpoint ${e.stream} ${fields}`);
  }
  const upstream = describeUpstream(status.upstream, upstreamQueue(status));
  if (upstream) lines.push(`${t} upstream ${upstream}`);
  const cluster = describeCluster(status.cluster);
  if (cluster) lines.push(`${t} cluster ${cluster}`);
  return lines;
}
