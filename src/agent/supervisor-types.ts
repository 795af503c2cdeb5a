/**
 * The contract between the module supervisor and its runners (process, container), and the
 * launch description the agent hands to a supervisor. Plain data and interfaces only.
 */
import type {
  DesiredStatus,
  DockerSettings,
  HealthCheck,
  ProcessSettings,
  RestartPolicy,
} from '../core/manifest/deployment.js';

/**
 * Everything needed to run one module, fully resolved by the agent: paths are absolute, the
 * environment is complete (identity variables included). The supervisor adds nothing.
 */
export interface ModuleLaunch {
  readonly module: string;
  /**
   * How to run it. For `process`, `command` and `cwd` are used as given (resolve relative
   * ones first) and `settings.env` is NOT read: `env` below is the whole environment.
   */
  readonly settings: ProcessSettings | DockerSettings;
  /**
   * process: the child's entire environment (include PATH: the command is looked up in it).
   * docker: passed as `--env` after createOptions.Env (so these win); do not put host PATH here.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Directory of `{module}.log` and its rotations (created if missing). */
  readonly logDir: string;
  readonly restartPolicy: RestartPolicy;
  /** What the deployment asks for; shown in status. start()/stop() change it. */
  readonly desired: DesiredStatus;
  readonly healthCheck?: HealthCheck;
  /** IoT Edge's module generation id; stored in the instance record (and as a container label). */
  readonly generationId: string;
}

/** What the agent persists per running instance so a restarted agent can adopt it. JSON-safe. */
export type InstanceRecord = ProcessRecord | ContainerRecord;

export interface ProcessRecord {
  readonly kind: 'process';
  readonly module: string;
  /** Process id; also the process group id (started detached). */
  readonly pid: number;
  /**
   * Field 22 of /proc/{pid}/stat (start time in clock ticks since boot): a recycled pid has
   * another start time, so it is never mistaken for the module.
   */
  readonly startTimeTicks: number;
  readonly generationId: string;
  readonly startedAtMs: number;
  /** The supervisor's restart count when this instance was started, so backoff continues after adoption. */
  readonly restartCount?: number;
}

export interface ContainerRecord {
  readonly kind: 'docker';
  readonly module: string;
  /** `docker` or `podman`: the CLI that created it. */
  readonly runtime: string;
  readonly containerId: string;
  readonly containerName: string;
  readonly generationId: string;
  readonly startedAtMs: number;
  readonly restartCount?: number;
}

/** How an instance ended. */
export interface ExitInfo {
  /** Exit code; undefined when killed by a signal or when unknowable (an adopted process). */
  readonly code: number | undefined;
  /** Terminating signal name (e.g. SIGKILL), if any. */
  readonly signal: string | undefined;
  /** When the end was observed (the supervisor's clock). */
  readonly atMs: number;
  /** In words: "exited with code 1", "killed by SIGTERM", "exited while the agent was away...". */
  readonly reason: string;
}

/** One running instance of a module, started or adopted. */
export interface ModuleInstance {
  readonly record: InstanceRecord;
  /** Host pid of the module's main process, when there is one (not for containers). */
  readonly pid: number | undefined;
  /** True when this agent did not start it (adopted after an agent restart). */
  readonly adopted: boolean;
  /**
   * Resolves once, when the instance has ended. For a process: after its main process
   * exited and whatever else was left in its process group is gone too.
   */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM (docker stop), SIGKILL after `graceMs`; resolves with the exit. Idempotent. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /**
   * Stops watching without touching the module (the agent is going away and will adopt it
   * later): timers are cleared and `exited` may then never resolve.
   */
  detach(): void;
}

export interface ModuleRunner {
  /** Starts an instance; rejects with TandemError TANDEM_E_MODULE_START when it cannot. */
  start(launch: ModuleLaunch, restartCount: number): Promise<ModuleInstance>;
  /** Re-attaches to the instance `record` describes if it still runs, else undefined. */
  adopt(record: InstanceRecord): Promise<ModuleInstance | undefined>;
}
