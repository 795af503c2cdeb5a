/**
 * The deployment model: what a validated IoT Edge manifest (plus Tandem's extensions) means.
 * The manifest reader produces it; the reconcile planner, the agent and (later) the cluster
 * scheduler consume it. Pure data: no I/O, no defaults left to the consumer.
 */
import type { EdgeHubSettings } from './edgehub.js';

/** IoT Edge restart policies (edgeAgent's `RestartPolicy`). */
export type RestartPolicy = 'never' | 'on-failure' | 'on-unhealthy' | 'always';
/** What the manifest wants a module to be doing. */
export type DesiredStatus = 'running' | 'stopped';

/** Tandem's `process` module: a child process on the node. */
export interface ProcessSettings {
  readonly kind: 'process';
  readonly command: string;
  readonly args: readonly string[];
  /** Working directory; relative paths are resolved by the agent against the manifest's directory. */
  readonly cwd?: string;
  readonly env: Readonly<Record<string, string>>;
  /**
   * How the module finds its identity: IoT Edge's workload API (`IOTEDGE_*`, the default, as
   * on a real IoT Edge device) or `EdgeHubConnectionString` (as the IoT Edge simulator does).
   */
  readonly auth?: 'workload' | 'connection-string';
}

/** IoT Edge's `docker` module. `createOptions` is the parsed (and re-joined) Docker create JSON. */
export interface DockerSettings {
  readonly kind: 'docker';
  readonly image: string;
  readonly createOptions: Readonly<Record<string, unknown>>;
}

/** Tandem extension: a command run periodically; a non-zero exit or a timeout is a failed check. */
export interface HealthCheck {
  readonly command: string;
  readonly args: readonly string[];
  readonly intervalSecs: number;
  readonly timeoutSecs: number;
  /** Consecutive failures that make the module unhealthy. */
  readonly retries: number;
}

export interface Resources {
  readonly cpu?: number;
  readonly memoryMb?: number;
  /** Named devices by count (gpu: 1); a node offers what its agent declares. */
  readonly devices?: Readonly<Record<string, number>>;
}

/**
 * Where a module keeps data (`TANDEM_VOLUME_DIR`). local: on its node, so the scheduler pins
 * it there (it waits for the node rather than start elsewhere on empty data); replicated: a
 * path the user's storage keeps the same on every node, so it may move.
 */
export type Volume = { readonly kind: 'local' } | { readonly kind: 'replicated'; readonly path: string };

export interface ModuleSpec {
  readonly name: string;
  readonly version?: string;
  readonly type: 'docker' | 'process';
  readonly settings: ProcessSettings | DockerSettings;
  readonly status: DesiredStatus;
  readonly restartPolicy: RestartPolicy;
  /** Lower starts first; IoT Edge's default is uint32 max (start last). */
  readonly startupOrder: number;
  /** IoT Edge's `env: { NAME: { value } }`, flattened. */
  readonly env: Readonly<Record<string, string>>;
  readonly imagePullPolicy?: 'on-create' | 'never';
  /** Tandem extension (used by the cluster scheduler): instances of this module. Default 1. */
  readonly replicas: number;
  /** Tandem extension: the message property whose value picks a replica's partition. */
  readonly partitionKey?: string;
  readonly resources?: Resources;
  /** Tandem extension: labels a node must carry to run this module (cluster scheduler). */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly volume?: Volume;
  readonly healthCheck?: HealthCheck;
}

export interface Deployment {
  readonly schemaVersion: string;
  /** User modules by name (`$edgeAgent.modules`); system modules are Tandem itself. */
  readonly modules: Readonly<Record<string, ModuleSpec>>;
  readonly edgeHub: EdgeHubSettings;
  /** Desired properties of each module twin the manifest sets (`modulesContent.{module}`). */
  readonly moduleTwins: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}
