/**
 * Renders the hub's counters (and the agent's module states, when there is an agent) in
 * Prometheus' text format, under edgeHub's metric names where a counterpart exists.
 */
import type { ModuleState, ModuleStatus } from '../agent/face.js';
import type { EndpointStatus } from '../hub/hub.js';
import type { HubMetrics } from '../hub/metrics.js';

const MODULE_STATES: readonly ModuleState[] = [
  'running',
  'starting',
  'stopped',
  'backoff',
  'unhealthy',
  'failed',
];

/** Dropped reasons always shown, so a dashboard sees 0 rather than a missing series. */
const DROP_REASONS = ['no_route', 'ttl_expiry'];

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function header(lines: string[], name: string, type: 'counter' | 'gauge', help: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

function counter(
  lines: string[],
  name: string,
  help: string,
  label: string,
  values: ReadonlyMap<string, number>,
): void {
  header(lines, name, 'counter', help);
  for (const [k, v] of values) lines.push(`${name}{${label}="${esc(k)}"} ${v}`);
}

function hubLines(lines: string[], m: HubMetrics, endpoints: readonly EndpointStatus[]): void {
  counter(lines, 'edgehub_messages_received_total', 'Messages accepted from clients', 'id', m.received);
  counter(
    lines,
    'edgehub_messages_sent_total',
    'Messages delivered and acknowledged, per endpoint',
    'endpoint',
    m.sent,
  );
  const dropped = new Map(DROP_REASONS.map((r) => [r, 0]));
  for (const [k, v] of m.dropped) dropped.set(k, v);
  counter(lines, 'edgehub_messages_dropped_total', 'Messages dropped, by reason', 'reason', dropped);
  // edgeHub counts TTL drops by sender only; which queue they expired in is what an operator needs.
  counter(
    lines,
    'tandem_messages_expired_total',
    'Messages whose TTL ran out before delivery, per endpoint',
    'endpoint',
    m.expired,
  );
  counter(
    lines,
    'tandem_protocol_errors_total',
    'Client packets refused, by error code',
    'code',
    m.protocolErrors,
  );
  header(lines, 'edgehub_queue_length', 'gauge', 'Messages waiting per endpoint');
  for (const e of endpoints) lines.push(`edgehub_queue_length{endpoint="${esc(e.stream)}"} ${e.queueLength}`);
  header(lines, 'edgehub_connected_clients', 'gauge', 'Open client connections');
  lines.push(`edgehub_connected_clients ${m.connectionsOpen}`);
  header(lines, 'tandem_connections_total', 'counter', 'Connections accepted');
  lines.push(`tandem_connections_total ${m.connectionsTotal}`);
}

/**
 * Module metrics. edgeAgent's own (`edgeAgent_module_start_total`, `..._stop_total`,
 * `edgeAgent_total_time_running_correctly_seconds`) are counters and time totals the agent
 * would have to accumulate; the status we have is a snapshot whose restartCount resets after
 * a good run, as in `$edgeAgent` reported properties. So these carry Tandem names and are
 * gauges: a snapshot must not pretend to be a counter.
 */
function moduleLines(lines: string[], modules: readonly ModuleStatus[]): void {
  header(lines, 'tandem_module_state', 'gauge', 'Current state of each module (1 for the state it is in)');
  for (const mod of modules) {
    for (const s of MODULE_STATES) {
      lines.push(
        `tandem_module_state{module_name="${esc(mod.name)}",state="${s}"} ${mod.state === s ? 1 : 0}`,
      );
    }
  }
  header(lines, 'tandem_module_expected_running', 'gauge', '1 when the deployment wants the module running');
  for (const mod of modules)
    lines.push(
      `tandem_module_expected_running{module_name="${esc(mod.name)}"} ${mod.desired === 'running' ? 1 : 0}`,
    );
  header(
    lines,
    'tandem_module_restart_count',
    'gauge',
    'Restarts since the module last ran long enough to be forgiven ($edgeAgent restartCount)',
  );
  for (const mod of modules)
    lines.push(`tandem_module_restart_count{module_name="${esc(mod.name)}"} ${mod.restartCount}`);
  header(lines, 'tandem_module_start_time_seconds', 'gauge', 'Unix time the module was last started');
  for (const mod of modules) {
    const t = mod.lastStartTime === undefined ? Number.NaN : Date.parse(mod.lastStartTime);
    if (Number.isFinite(t))
      lines.push(`tandem_module_start_time_seconds{module_name="${esc(mod.name)}"} ${t / 1000}`);
  }
  header(lines, 'tandem_module_exit_code', 'gauge', 'Exit code of the module process when it last exited');
  for (const mod of modules) {
    if (mod.exitCode !== undefined)
      lines.push(`tandem_module_exit_code{module_name="${esc(mod.name)}"} ${mod.exitCode}`);
  }
}

/** What a cluster node counts about scheduling (cluster/workloads.ts metrics()). */
export interface ClusterMetrics {
  readonly nodes: Readonly<Record<string, number>>;
  readonly headroomOk: boolean;
  readonly leading: boolean;
  readonly events: ReadonlyMap<string, number>;
}

/** The event kinds always shown, so a dashboard sees 0 rather than a missing series. */
const EVENT_KINDS = [
  'placed',
  'failover',
  'rebalance',
  'stopped',
  'waiting',
  'unplaced',
  'node-down',
  'node-ready',
];

function clusterLines(lines: string[], c: ClusterMetrics): void {
  const events = new Map<string, number>(EVENT_KINDS.map((k) => [k, 0]));
  for (const [k, v] of c.events) events.set(k, v);
  counter(
    lines,
    'tandem_scheduler_events_total',
    'Scheduling decisions this node made while it led, by kind',
    'kind',
    events,
  );
  header(lines, 'tandem_cluster_nodes', 'gauge', 'Nodes by condition, as the leader judged them last');
  for (const [k, v] of Object.entries(c.nodes))
    lines.push(`tandem_cluster_nodes{condition="${esc(k)}"} ${v}`);
  header(lines, 'tandem_cluster_headroom_ok', 'gauge', '1 when the placement can absorb the loss of a node');
  lines.push(`tandem_cluster_headroom_ok ${c.headroomOk ? 1 : 0}`);
  header(lines, 'tandem_scheduler_leader', 'gauge', '1 on the node whose scheduler leads');
  lines.push(`tandem_scheduler_leader ${c.leading ? 1 : 0}`);
}

export function renderMetrics(
  m: HubMetrics,
  endpoints: readonly EndpointStatus[],
  modules?: readonly ModuleStatus[],
  cluster?: ClusterMetrics,
): string {
  const lines: string[] = [];
  hubLines(lines, m, endpoints);
  if (modules) moduleLines(lines, modules);
  if (cluster) clusterLines(lines, cluster);
  return `${lines.join('\n')}\n`;
}
