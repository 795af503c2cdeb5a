/**
 * The local HTTP API's wire shapes: what the server sends and the CLI (and the live status
 * view of `tandem up`) reads. Types only, so both faces agree on one definition.
 */
import type { AgentStatus, ModuleStatus } from '../agent/face.js';
import type { EndpointStatus } from '../hub/hub.js';

/** `GET /api/v1/status`. */
export interface StatusResponse {
  readonly hubName: string;
  readonly edgeDeviceId: string;
  readonly ports: Record<string, number>;
  /** Identities with a live MQTT connection, sorted. */
  readonly connected: readonly string[];
  readonly endpoints: readonly EndpointStatus[];
  /** Present when the instance runs an agent; queueLength counts the module's input streams. */
  readonly modules?: readonly ModuleStatus[];
  readonly deployment?: AgentStatus['deployment'];
  /** Whatever the upstream connector reports about itself, when there is one. */
  readonly upstream?: unknown;
  /** Present on a cluster replica: its id, the live replicas, the leases it holds, the server's guarantees. */
  readonly cluster?: unknown;
}

/** An error answer: `code` is a TANDEM_E_... code; `details` carries e.g. a JSON path. */
export interface ErrorResponse {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** `POST /api/v1/deployment` request body. */
export interface DeployRequest {
  readonly manifest: unknown;
  /** Absolute directory relative module paths are resolved against (the manifest's directory). */
  readonly baseDir: string;
  readonly dryRun?: boolean;
  /** Cluster: apply even if the placement breaks the headroom policy. */
  readonly acceptDegraded?: boolean;
}

/** One line of `GET /api/v1/monitor` (NDJSON): a message the hub stored and where it went. */
export interface MonitorEvent {
  /** When the hub accepted it (its enqueuedTime). */
  readonly time: string;
  /** `device` for telemetry, `device/module` for a module output. */
  readonly source: string;
  /** The module output it was sent on, for module messages. */
  readonly output?: string;
  /** Endpoint streams it was stored for (`upstream`, `module/{m}/{input}`); empty: no route took it. */
  readonly to: readonly string[];
  readonly messageId: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly systemProperties: Readonly<Record<string, string>>;
  /** UTF-8 text when the body is valid UTF-8, else base64; cut at limits.monitorBodyBytesMax. */
  readonly body: string;
  readonly bodyEncoding: 'utf8' | 'base64';
  readonly bodyBytes: number;
  readonly bodyTruncated: boolean;
}

/** A monitor line saying events were skipped because the client read too slowly. */
export interface MonitorSkipped {
  readonly skipped: number;
}
