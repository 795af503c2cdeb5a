/**
 * The upstream connector: drains the hub's `$upstream` endpoint to a cloud MQTT broker or a
 * parent hub. See docs/upstream.md.
 *
 *   const upstream = startUpstream(node.hub, { kind: 'mqtt', url: 'mqtts://cloud:8883' }, { log });
 *   ...
 *   await upstream.status();
 *   await upstream.close(); // before node.close()
 */
import type { Hub } from '../hub/hub.js';
import { parseUpstreamTarget, type UpstreamConfigInput } from './config.js';
import { UpstreamConnector, type UpstreamOptions } from './connector.js';

export { type BackoffPolicy, backoffCeilingMs, backoffDelayMs } from './backoff.js';
export {
  describeTarget,
  type IotHubConfigInput,
  type MqttConfigInput,
  parseUpstreamTarget,
  type UpstreamConfigInput,
  type UpstreamTarget,
  type UpstreamTargetInfo,
} from './config.js';
export { parseDeviceConnectionString } from './connection-string.js';
export {
  systemTimers,
  type Timers,
  UpstreamConnector,
  type UpstreamHub,
  type UpstreamLog,
  type UpstreamOptions,
  type UpstreamState,
  type UpstreamStatus,
  upstreamStream,
} from './connector.js';
export { originProperties } from './publication.js';

export type StartUpstreamOptions = Omit<UpstreamOptions, 'edgeDeviceId'> & {
  /** Default: the hub's own edge device id. */
  readonly edgeDeviceId?: string;
};

/**
 * Validates `config` (TANDEM_E_UPSTREAM, thrown before anything starts) and starts a
 * connector that consumes the hub's `upstream` stream. Connection failures never throw: they
 * show in status() and the log, and are retried with backoff. Close it before the hub.
 */
export function startUpstream(
  hub: Hub,
  config: UpstreamConfigInput,
  options: StartUpstreamOptions = {},
): UpstreamConnector {
  // Checked even when typed: the config usually comes from JSON or command-line flags.
  const target = parseUpstreamTarget(config);
  const connector = new UpstreamConnector(hub, target, {
    ...options,
    edgeDeviceId: options.edgeDeviceId ?? hub.context.edgeDeviceId,
  });
  connector.start();
  return connector;
}
