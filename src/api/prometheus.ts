/** Renders the hub's counters in Prometheus' text format, under edgeHub's metric names. */
import type { EndpointStatus } from '../hub/hub.js';
import type { HubMetrics } from '../hub/metrics.js';

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function counter(
  lines: string[],
  name: string,
  help: string,
  label: string,
  values: Map<string, number>,
): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
  for (const [k, v] of values) lines.push(`${name}{${label}="${esc(k)}"} ${v}`);
}

export function renderMetrics(m: HubMetrics, endpoints: readonly EndpointStatus[]): string {
  const lines: string[] = [];
  counter(lines, 'edgehub_messages_received_total', 'Messages accepted from clients', 'id', m.received);
  counter(
    lines,
    'edgehub_messages_sent_total',
    'Messages delivered and acknowledged, per endpoint',
    'endpoint',
    m.sent,
  );
  counter(lines, 'edgehub_messages_dropped_total', 'Messages dropped, by reason', 'reason', m.dropped);
  counter(
    lines,
    'tandem_protocol_errors_total',
    'Client packets refused, by error code',
    'code',
    m.protocolErrors,
  );
  lines.push(
    '# HELP edgehub_queue_length Messages waiting per endpoint',
    '# TYPE edgehub_queue_length gauge',
  );
  for (const e of endpoints) lines.push(`edgehub_queue_length{endpoint="${esc(e.stream)}"} ${e.queueLength}`);
  lines.push(
    '# HELP edgehub_client_connected Open client connections',
    '# TYPE edgehub_client_connected gauge',
  );
  lines.push(`edgehub_client_connected ${m.connectionsOpen}`);
  lines.push(
    '# HELP tandem_connections_total Connections accepted',
    '# TYPE tandem_connections_total counter',
  );
  lines.push(`tandem_connections_total ${m.connectionsTotal}`);
  return `${lines.join('\n')}\n`;
}
