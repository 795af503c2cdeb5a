/**
 * Typed errors with stable codes. Every code is listed in docs/errors.md; a unit test
 * checks that the table and this list agree.
 */
export const errorCodes = {
  TANDEM_E_ASSERT: 'An invariant was broken: a bug in Tandem.',
  TANDEM_E_CONFIG: 'A command-line option or configuration value is invalid.',
  TANDEM_E_MANIFEST: 'The deployment manifest is invalid (the message names the JSON path).',
  TANDEM_E_ROUTE_SYNTAX: 'A route does not parse (the message names line and column).',
  TANDEM_E_ROUTE_EVAL: 'A route condition could not be evaluated for a message.',
  TANDEM_E_PROTOCOL: 'A client sent a malformed or out-of-order MQTT packet; its connection is closed.',
  TANDEM_E_AUTH: 'A client could not be authenticated (unknown identity, bad or expired SAS token).',
  TANDEM_E_FORBIDDEN: 'An identity tried to publish or subscribe outside its own topics.',
  TANDEM_E_TOPIC: 'A topic is not part of the IoT Hub MQTT dialect.',
  TANDEM_E_TOO_LARGE: 'A message, property bag or payload is over its limit.',
  TANDEM_E_QOS_UNSUPPORTED: 'QoS 2 was requested; Tandem, like IoT Hub, supports QoS 0 and 1.',
  TANDEM_E_STORE: 'The durable store failed an operation.',
  TANDEM_E_STORE_FULL: 'The store or its disk is full: new messages are refused, stored ones are kept.',
  TANDEM_E_STORE_CONFLICT: 'A key-value write lost a compare-and-set race (revision mismatch).',
  TANDEM_E_IDENTITY_EXISTS: 'An identity with that name already exists.',
  TANDEM_E_IDENTITY_NOT_FOUND: 'No identity with that name.',
  TANDEM_E_IDENTITY_INVALID: 'A device or module id does not follow IoT Hub naming rules.',
  TANDEM_E_TWIN: 'A twin patch is invalid (depth, size, types or version).',
  TANDEM_E_METHOD_TIMEOUT: 'A direct method got no response within its timeout.',
  TANDEM_E_METHOD_OFFLINE: 'A direct method target is not connected or not subscribed to methods.',
  TANDEM_E_TLS: 'Creating or loading the hub certificate authority or server certificate failed.',
  TANDEM_E_API: 'A local HTTP API request is invalid.',
  TANDEM_E_MODULE_START: 'A module could not be started (command not found, no container runtime).',
  TANDEM_E_MODULE_NOT_FOUND: 'No module with that name in the current deployment.',
  TANDEM_E_WORKLOAD: 'A workload API request was refused (wrong module, stale generation id, bad request).',
  TANDEM_E_UPSTREAM: 'The upstream connection is misconfigured or was refused by the cloud or parent hub.',
  TANDEM_E_NOT_RUNNING: 'No running Tandem instance was found for the data directory.',
  TANDEM_E_LEASE_LOST:
    'This hub replica no longer holds an endpoint lease (taken over, or it fenced itself).',
  TANDEM_E_CLUSTER: 'The cluster cannot be joined (replica id in use, unusable nats-server).',
  TANDEM_E_HEADROOM:
    'A deployment breaks the headroom policy (the cluster could not absorb a node loss); nothing applied.',
  TANDEM_E_UNSUPPORTED: 'The request needs something this version of Tandem does not do yet.',
  TANDEM_E_NODE_NOT_FOUND: 'No cluster node with that name.',
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class TandemError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (JSON path, line/column, limit that was hit). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TandemError';
    this.code = code;
    this.details = options?.details ?? {};
  }
}

/** An invariant that, when false, means a bug in Tandem rather than bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new TandemError('TANDEM_E_ASSERT', `assertion failed: ${message}`);
}

export function isTandemError(err: unknown, code?: ErrorCode): err is TandemError {
  return err instanceof TandemError && (code === undefined || err.code === code);
}
