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
  /**
   * Cluster: how often a hub replica rewrites its member key. A few per TTL, so one late
   * write on a busy machine does not make it look dead.
   */
  clusterHeartbeatIntervalMs: 250,
  /**
   * Cluster: a replica whose heartbeat nobody saw change for this long is dead and its
   * endpoint leases are taken over. With clusterLeaseGrantWaitMs it makes the failover time
   * (aim: < 3 s). Only liveness rests on it: a replica wrongly believed dead stops on its
   * own before the taker starts (endpoint-leases.ts). Five heartbeats, so one slow write on a
   * busy machine does not look like a death (and a fresh read is asked before one is declared).
   */
  clusterMemberTtlMs: 1250,
  /**
   * Cluster: a replica stops delivering when none of its own heartbeats was confirmed (written
   * and seen back in its watch) for this long, counted from when that heartbeat was sent.
   * Several heartbeats long, so one slow write on a busy machine does not stop delivery.
   */
  clusterSelfFenceMs: 1000,
  /**
   * Cluster: a replica that took an endpoint's lease starts delivering it only this long after
   * the take was acknowledged: more than clusterSelfFenceMs, so whoever delivered it before has
   * stopped (endpoint-leases.ts, rule 2). The 100 ms are for clocks running at slightly
   * different rates on different nodes. Every handover costs this much more delivery time.
   */
  clusterLeaseGrantWaitMs: 1100,
  /**
   * Cluster: own heartbeats acknowledged but not yet seen back in the watch, kept at most. They
   * pile up only while the watch is down; the newest ones are all a confirmation needs.
   */
  clusterHeartbeatsUnconfirmedCountMax: 64,
  /**
   * A node whose heartbeats stop for this long is declared down and its modules start on
   * other nodes (the issue's "a few seconds"; Kubernetes' defaults take about 5 min 40 s).
   * Well above clusterMemberTtlMs, so a busy 2-core box's late heartbeat does not move work.
   */
  clusterNodeDownGraceMs: 3000,
  /** A node back after being down heartbeats this long (and stops its stale instances) before it takes work. */
  clusterNodeRecoverMs: 2000,
  /** The leader waits this long to see its own decision come back through the watch before deciding again. */
  clusterDecisionEchoWaitMs: 5000,
  /** A node reports its modules' states at most this often (one key write each time). */
  clusterNodeReportMinIntervalMs: 1000,
  /** Scheduler events `tandem status` shows (the latest); `tandem events` shows all kept. */
  clusterStatusEventsCountMax: 10,
  /** Scheduler events kept in the assignment key for `tandem events`; older ones are in the replicas' logs. */
  clusterEventsKeptCountMax: 100,
  /**
   * A checkpoint write that failed (store unavailable, a lease write whose answer was lost)
   * is tried again after this; until then the endpoint's window cannot move past it.
   */
  checkpointRetryMs: 500,
  /** How often TTL expiry is swept. */
  expirySweepIntervalMs: 1000,
  /** Default cap of the embedded store on disk (LMDB map size); the disk itself may fill first. */
  storeBytesMaxDefault: 8 * 1024 * 1024 * 1024,
  /**
   * JetStream store: an append waits this long for the log (a reconnect to the local
   * nats-server, a stream leader election, ~4 s measured) before it fails with TANDEM_E_STORE,
   * so the hub withholds the PUBACK instead of hanging; the client sends again.
   */
  jetstreamAppendTimeoutMs: 10_000,
  /** One publish attempt of a log batch; a lost ack is retried with the same Nats-Msg-Id (no duplicate). */
  jetstreamPublishAttemptTimeoutMs: 2000,
  /**
   * Log batches published and not yet acknowledged. One: when a publish is lost (its server
   * died) a later batch already in flight on the new connection would land first, and one
   * sender's messages would be stored out of order (G2; caught by the nats-server SIGKILL
   * test). Group commit keeps throughput: 1, 2, 4 and 8 measured the same.
   */
  jetstreamFlushesInflightMax: 1,
  /** Decoded log batches kept in memory per store instance, so reads rarely fetch from the server. */
  jetstreamBatchCacheBytesMax: 32 * 1024 * 1024,
  /** Storage of trimmed log batches is reclaimed (one stream purge) at most this often. */
  jetstreamPurgeIntervalMs: 500,
  /** The local nats-server may restart: reconnect soon and forever, the list's first server first. */
  jetstreamReconnectWaitMs: 250,
  /** A consumer's pull request lives this long; two missed idle heartbeats (its half) recreate the consumer. */
  jetstreamPullExpiresMs: 5000,
  /** A store open fails when setting its streams up or reading the existing log makes no progress for this long. */
  jetstreamOpenStallMs: 30_000,
  /** A key-value watch whose consumer ended is started again (with every current entry) after this. */
  jetstreamWatchRestartMs: 1000,
  /**
   * While no log tailer can be started, the log is read by single requests this often: what
   * another replica appended reaches this one's endpoints at most this late meanwhile.
   */
  jetstreamTailerPollMs: 250,
  /** Local HTTP API request body cap. */
  apiBodyBytesMax: 1024 * 1024,
  /** A local API call slower than this means a wedged instance: the CLI says so instead of hanging. */
  apiRequestTimeoutMs: 30_000,
  /** Bytes of one log file a tail reads from its end: a rotated file is moduleLogBytesMax plus one write. */
  logReadFileBytesMax: 2 * 1024 * 1024,
  /** How often `logs --follow` checks the file for growth or rotation: feels live, costs one stat. */
  logFollowPollMs: 250,
  /** Body bytes shown per message by `tandem monitor`: enough to read a reading, not to flood a terminal. */
  monitorBodyBytesMax: 4096,
  /** How often `tandem status --watch` refreshes. */
  statusWatchIntervalMs: 2000,
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
  /** How often a running module's log size is checked for rotation: at 1 MB files, a second of output is the overshoot. */
  moduleLogRotateCheckMs: 1000,
  /** Output of a health check kept for the "unhealthy" reason, as Docker keeps 4096 bytes of a probe's output. */
  healthCheckOutputBytesMax: 4096,
  /** `docker info` / `podman info` must answer within this to count as a working container runtime. */
  containerProbeTimeoutMs: 10_000,
  /** How long a container runtime probe's answer is trusted, so starting many modules probes once. */
  containerProbeCacheMs: 60_000,
  /** `inspect`, `rm`, `logs`: quick engine calls; a slower engine is treated as failing. */
  containerCommandTimeoutMs: 30_000,
  /** `run` may pull the image first, over a slow edge uplink. */
  containerRunTimeoutMs: 15 * 60_000,
  /** Health check defaults, as Docker's HEALTHCHECK: every 30 s, 30 s to answer, 3 failures in a row. */
  healthCheckIntervalSecondsDefault: 30,
  healthCheckTimeoutSecondsDefault: 30,
  healthCheckRetriesDefault: 3,
  /** Modules per deployment; a deployment is a handful of modules, thousands means a mistake. */
  modulesCountMax: 200,
  /**
   * Instances of one module (the manifest's Tandem `replicas`). A cluster is 2-5 boxes and each
   * replica is its own identity and process; a few per box is plenty, hundreds means a typo.
   */
  moduleReplicasMax: 16,
  /**
   * Single moves the rebalancer tries in a row before it gives up on reaching the headroom
   * policy: a cluster is 2-5 nodes with tens of instances, so a plan needing more moves than
   * this is not one to carry out unattended.
   */
  placementRebalanceMovesMax: 64,
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
  /** CONNACK wait per upstream attempt (MQTT.js' default); past it the attempt fails and backs off. */
  upstreamConnectTimeoutMs: 30_000,
  /** MQTT keepalive towards the cloud: a silently dead link is noticed within about this long plus a PINGRESP wait. */
  upstreamKeepaliveSeconds: 60,
  /** Wait for in-flight PUBACKs before a token-renewal reconnect; past it they are simply sent again. */
  upstreamRenewDrainMsMax: 10_000,
  /** Workload API sign request: IoT Hub resource strings are short; anything larger is abuse. */
  workloadSignDataBytesMax: 4096,
  /** A sign request is JSON around base64 of at most workloadSignDataBytesMax (~5.4 KiB); the rest is slack. */
  workloadRequestBodyBytesMax: 8 * 1024,
  /** A workload request is one small JSON exchange; a caller that dribbles bytes is cut off after this. */
  workloadRequestTimeoutMs: 10_000,
  /** Connections to one module's workload socket at once: the SDK opens one per request, a few at a time. */
  workloadConnectionsMax: 16,
  /** sun_path holds 108 bytes on Linux, 104 on macOS, NUL included: a longer path cannot be bound at all. */
  unixSocketPathBytesMax: 103,
} as const;

export type Limits = typeof limits;
