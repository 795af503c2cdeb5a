/**
 * Counters the hub keeps, named after edgeHub's Prometheus metrics where a counterpart
 * exists (edgehub_messages_received_total, edgehub_messages_sent_total,
 * edgehub_messages_dropped_total, edgehub_queue_length...). The HTTP face renders them.
 */
export class HubMetrics {
  /** Messages accepted (PUBACKed or QoS 0 stored), by sender identity. */
  readonly received = new Map<string, number>();
  /** Messages delivered and acknowledged, by endpoint stream. */
  readonly sent = new Map<string, number>();
  /** Messages dropped, by reason: ttl_expiry, no_route, store_full (QoS 0 only). */
  readonly dropped = new Map<string, number>();
  /** Messages expired by their TTL before delivery, by endpoint stream. */
  readonly expired = new Map<string, number>();
  /** Connections closed for bad input, by error code. */
  readonly protocolErrors = new Map<string, number>();
  connectionsOpen = 0;
  connectionsTotal = 0;

  add(map: Map<string, number>, key: string, n = 1): void {
    map.set(key, (map.get(key) ?? 0) + n);
  }
}
