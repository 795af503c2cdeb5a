/**
 * Every bound Tandem enforces, in one place. Units are last in the name; each says why.
 * Change a bound here, never inline.
 */
export const limits = {
  /** IoT Hub's device-to-cloud message limit is 256 KB; larger payloads are refused, not split. */
  messageBytesMax: 256 * 1024,
  /** A whole MQTT packet may carry topic + properties beside the 256 KB payload. */
  packetBytesMax: 256 * 1024 + 16 * 1024,
  /** IoT Hub caps a topic property bag; a longer topic is malformed input. */
  topicBytesMax: 16 * 1024,
  /** Application properties per message, as IoT Hub's 81-property / 8 KB system cap. */
  propertiesCountMax: 81,
  /**
   * Messages one endpoint may have sent past its last durable checkpoint (unacknowledged, or
   * acknowledged but not yet checkpointed): the bound on repeats after a crash (G3). Measured
   * (docs/benchmarks.md): 64 held delivery to ~12k msg/s and 256 to ~17k behind checkpoint
   * fsyncs, while ingest ran at ~30k; 1024 lets one endpoint keep up with ten publishers.
   */
  inflightWindowMessagesMax: 1024,
  /** Unflushed acknowledgements (as a fraction of the window) that trigger a checkpoint write at once. */
  checkpointEagerFraction: 0.25,
  /** QoS 1 publishes a client may have awaiting PUBACK before we stop reading its socket (flow control). */
  ingressPendingMessagesMax: 256,
  /** Bytes queued for writing to a slow socket before delivery to it pauses. */
  socketWriteBufferBytesMax: 1024 * 1024,
  /** Connections the hub accepts at once; beyond, new sockets are closed at accept. */
  connectionsMax: 10_000,
  /** A client must send CONNECT this soon after opening the socket [MQTT-3.1.0-1 spirit]. */
  connectTimeoutMs: 10_000,
  /** Upper bound on keepalive a client may ask for; IoT Hub caps at 1177 s. */
  keepaliveSecondsMax: 1177,
  /** Keepalive the hub uses when the client asks for 0 (IoT Hub applies a 1177 s max, never "none"). */
  keepaliveSecondsDefault: 300,
  /** Subscriptions per client: IoT Hub dialect needs a handful (inputs, twin, methods, c2d). */
  subscriptionsPerClientMax: 64,
  /** Max SAS token lifetime accepted, so a leaked token cannot live forever (IoT Hub has no cap; 1 year here). */
  sasTokenLifetimeSecondsMax: 365 * 24 * 3600,
  /** Clock skew tolerated when checking SAS expiry. */
  sasClockSkewSecondsMax: 300,
  /** Default message TTL when the manifest does not set one: IoT Edge's default timeToLiveSecs is 7200. */
  messageTtlSecondsDefault: 7200,
  /** Pending direct-method calls per target; more means a runaway caller. */
  pendingMethodCallsMax: 100,
  /** IoT Hub's direct-method response timeout bounds: 5 s to 300 s, default 30 s. */
  methodTimeoutSecondsMin: 5,
  methodTimeoutSecondsMax: 300,
  methodTimeoutSecondsDefault: 30,
  /** Direct-method payload limit in IoT Hub (128 KB). */
  methodPayloadBytesMax: 128 * 1024,
  /** Twin document sizes in IoT Hub: desired and reported are each capped at 32 KB. */
  twinSectionBytesMax: 32 * 1024,
  /** Twin nesting depth IoT Hub allows (10 levels of objects). */
  twinDepthMax: 10,
  /** Nesting of parentheses, prefix operators and calls in a route, so hostile text cannot exhaust the stack. */
  routeNestingDepthMax: 100,
  /** Route source text; longer is a manifest error. */
  routeTextBytesMax: 4096,
  /** Routes per deployment. */
  routesCountMax: 1000,
  /** Records read from the log per delivery batch. */
  deliveryReadBatchMessagesMax: 128,
  /** Acknowledged positions coalesced before a checkpoint write: fewer writes, repeats stay within the window. */
  checkpointCoalesceMs: 20,
  /** How often TTL expiry is swept. */
  expirySweepIntervalMs: 1000,
  /** Default cap of the embedded store on disk (LMDB map size); the disk itself may fill first. */
  storeBytesMaxDefault: 8 * 1024 * 1024 * 1024,
  /** Local HTTP API request body cap. */
  apiBodyBytesMax: 1024 * 1024,
  /** IoT Edge's restart backoff: 10 s x 2^n ... */
  restartBackoffBaseMs: 10_000,
  /** ... capped at 5 minutes (edgeAgent's RestartPolicyManager) ... */
  restartBackoffMaxMs: 300_000,
  /** ... and forgotten after a module has run this long without failing. */
  restartCountResetMs: 10 * 60_000,
  /** Time a module gets after SIGTERM before SIGKILL: Docker's default stop timeout. */
  moduleStopGraceMs: 10_000,
  /** One module log file; past it the file is rotated, so a chatty module cannot fill the disk. */
  moduleLogBytesMax: 1024 * 1024,
  /** Rotated log files kept per module (besides the live one). */
  moduleLogFilesKept: 3,
  /** How often the agent checks a module it adopted after a restart (it is not its child, so no exit event). */
  adoptedModulePollMs: 1000,
  /** Health check defaults, as Docker's HEALTHCHECK: every 30 s, 30 s to answer, 3 failures in a row. */
  healthCheckIntervalSecondsDefault: 30,
  healthCheckTimeoutSecondsDefault: 30,
  healthCheckRetriesDefault: 3,
  /** Modules per deployment; a deployment is a handful of modules, thousands means a mistake. */
  modulesCountMax: 200,
  /** IoT Edge's default startupOrder: unspecified modules start last (uint32 max). */
  startupOrderDefault: 4_294_967_295,
  /** Upstream reconnect backoff: first retry ~1 s, doubling with full jitter ... */
  upstreamBackoffBaseMs: 1000,
  /** ... up to one minute, so a returning cloud is found within a minute. */
  upstreamBackoffMaxMs: 60_000,
  /** Messages sent upstream awaiting PUBACK at once: pipelines over a slow link, bounds repeats. */
  upstreamInflightMessagesMax: 100,
  /** Lifetime of the SAS token used towards a parent hub; the connection is renewed before it ends. */
  upstreamSasTokenLifetimeSeconds: 3600,
  /** Workload API sign request: IoT Hub resource strings are short; anything larger is abuse. */
  workloadSignDataBytesMax: 4096,
} as const;

export type Limits = typeof limits;
