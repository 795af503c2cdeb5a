/**
 * The `definitions` of the manifest schema (schema.ts): modules, their settings and Tandem's
 * extensions, each with a title and description an editor shows on hover.
 */
import { limits } from '../../limits.js';

/** IoT Edge stores startupOrder and TTLs as uint32. */
export const uint32Max = 4_294_967_295;
/** Node timers hold at most 2^31-1 ms; a longer health-check period would fire at once. */
const timerSecsMax = Math.floor(0x7fffffff / 1000);

export const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

const stringArray = (title: string, description: string) => ({
  title,
  description,
  type: 'array',
  items: { type: 'string' },
});

const createOptionsParts = Object.fromEntries(
  [1, 2, 3, 4, 5, 6, 7].map((n) => {
    const name = `createOptions${String(n).padStart(2, '0')}`;
    const previous = n === 1 ? 'createOptions' : `createOptions${String(n - 1).padStart(2, '0')}`;
    return [
      name,
      {
        title: `createOptions, part ${n + 1}`,
        description: `Continuation of a long createOptions string (as IoT Edge splits it): appended after ${previous}.`,
        type: 'string',
      },
    ];
  }),
);

/** Each continuation part needs the one before it, so the joined string has no holes. */
const createOptionsOrder = Object.fromEntries(
  [1, 2, 3, 4, 5, 6, 7].map((n) => [
    `createOptions${String(n).padStart(2, '0')}`,
    [n === 1 ? 'createOptions' : `createOptions${String(n - 1).padStart(2, '0')}`],
  ]),
);

export const definitions = {
  schemaVersion: {
    title: 'Schema version',
    description: 'Manifest schema version. 1.1 adds startupOrder, imagePullPolicy and route priority/TTL.',
    type: 'string',
    enum: ['1.0', '1.1'],
  },
  status: {
    title: 'Desired status',
    description: 'Whether the module should be running.',
    type: 'string',
    enum: ['running', 'stopped'],
    default: 'running',
  },
  restartPolicy: {
    title: 'Restart policy',
    description:
      'When a module that stopped is restarted (with backoff): never; on-failure (non-zero exit); on-unhealthy (failed health check, or on-failure); always.',
    type: 'string',
    enum: ['never', 'on-failure', 'on-unhealthy', 'always'],
    default: 'always',
  },
  startupOrder: {
    title: 'Startup order (schema 1.1)',
    description: 'Lower starts first. Modules without one start last (4294967295).',
    type: 'integer',
    minimum: 0,
    maximum: uint32Max,
    default: limits.startupOrderDefault,
  },
  imagePullPolicy: {
    title: 'Image pull policy (schema 1.1, docker modules)',
    description: 'on-create: pull the image when the module is created; never: use only a local image.',
    type: 'string',
    enum: ['on-create', 'never'],
  },
  env: {
    title: 'Environment variables',
    description: 'Variables set for the module, as { "NAME": { "value": ... } }. Values become strings.',
    type: 'object',
    propertyNames: {
      description: "a name without '.', '$', '#', '+', '=', spaces or control characters",
      type: 'string',
      pattern: '^[^.$#+=\\s\\u0000-\\u001f]+$',
    },
    additionalProperties: {
      type: 'object',
      required: ['value'],
      additionalProperties: false,
      properties: {
        value: {
          title: 'Value',
          description: "The variable's value.",
          type: ['string', 'number', 'boolean'],
        },
      },
    },
  },
  createOptions: {
    title: 'Docker create options',
    description:
      'The Docker Engine "create container" body as a JSON object inside a string, e.g. "{\\"HostConfig\\":{\\"Binds\\":[\\"/data:/data\\"]}}". Free-form.',
    type: 'string',
  },
  dockerSettings: {
    title: 'Docker module settings',
    type: 'object',
    required: ['image'],
    additionalProperties: false,
    properties: {
      image: {
        title: 'Image',
        description: 'Container image reference.',
        type: 'string',
        minLength: 1,
        examples: ['mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.0'],
      },
      createOptions: ref('createOptions'),
      ...createOptionsParts,
    },
    dependencies: createOptionsOrder,
  },
  processSettings: {
    title: 'Process module settings (Tandem)',
    description: 'A child process on the node instead of a container.',
    type: 'object',
    required: ['command'],
    additionalProperties: false,
    properties: {
      command: {
        title: 'Command',
        description: 'Executable path or name (looked up in PATH).',
        type: 'string',
        minLength: 1,
      },
      args: stringArray('Arguments', 'Arguments passed to the command.'),
      cwd: {
        title: 'Working directory',
        description: "Relative paths are resolved against the manifest's directory.",
        type: 'string',
        minLength: 1,
      },
      env: {
        title: 'Process environment',
        description: 'Extra environment variables as plain strings (the module-level env also applies).',
        type: 'object',
        propertyNames: { $ref: '#/definitions/env/propertyNames' },
        additionalProperties: { type: 'string' },
      },
      auth: {
        title: 'Identity hand-over',
        description:
          "How the module gets its identity: workload (IoT Edge's workload API, IOTEDGE_* variables, as on a device; the default) or connection-string (EdgeHubConnectionString, as the IoT Edge simulator does).",
        type: 'string',
        enum: ['workload', 'connection-string'],
        default: 'workload',
      },
    },
  },
  resources: {
    title: 'Resources (Tandem)',
    description: 'What one replica needs; the cluster scheduler places modules where this fits.',
    type: 'object',
    additionalProperties: false,
    properties: {
      cpu: {
        title: 'CPU',
        description: 'Cores; may be fractional (0.5).',
        type: 'number',
        exclusiveMinimum: 0,
      },
      memoryMb: { title: 'Memory', description: 'Mebibytes.', type: 'integer', minimum: 1 },
      devices: {
        title: 'Devices',
        description: 'Named devices one replica needs, by count (gpu: 1); nodes declare what they have.',
        type: 'object',
        propertyNames: {
          description: 'a device name: lower-case letters, digits, . and -, starting with a letter',
          pattern: '^[a-z][a-z0-9.-]{0,62}$',
        },
        additionalProperties: { type: 'integer', minimum: 1, maximum: 64 },
      },
    },
  },
  nodeSelector: {
    title: 'Node selector (Tandem)',
    description: 'Labels a node must carry for the cluster scheduler to place this module there.',
    type: 'object',
    propertyNames: {
      description: 'a label name: letters, digits, _ . / and -, starting with a letter or digit',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$',
    },
    additionalProperties: { type: 'string', maxLength: 63 },
  },
  volume: {
    title: 'Volume (Tandem)',
    description:
      'Where the module keeps data (TANDEM_VOLUME_DIR): local to its node (never started elsewhere on empty data) or on replicated storage the user provides (path).',
    type: 'object',
    required: ['kind'],
    additionalProperties: false,
    properties: {
      kind: { title: 'Kind', type: 'string', enum: ['local', 'replicated'] },
      path: {
        title: 'Path',
        description: 'replicated: the same path on every node (a shared or replicated file system).',
        type: 'string',
        minLength: 1,
      },
    },
    if: { properties: { kind: { const: 'replicated' } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, not a thenable.
    then: { properties: { path: { type: 'string' } }, required: ['path'] },
    else: {
      description:
        'path is for kind replicated only (a local volume lives in the data directory of its node)',
      not: { required: ['path'] },
    },
  },
  healthCheck: {
    title: 'Health check (Tandem)',
    description: 'A command run periodically; a non-zero exit or a timeout is a failed check.',
    type: 'object',
    required: ['command'],
    additionalProperties: false,
    properties: {
      command: { title: 'Command', type: 'string', minLength: 1 },
      args: stringArray('Arguments', 'Arguments passed to the command.'),
      intervalSecs: {
        title: 'Interval',
        description: 'Seconds between checks.',
        type: 'integer',
        minimum: 1,
        maximum: timerSecsMax,
        default: limits.healthCheckIntervalSecondsDefault,
      },
      timeoutSecs: {
        title: 'Timeout',
        description: 'Seconds a check may take.',
        type: 'integer',
        minimum: 1,
        maximum: timerSecsMax,
        default: limits.healthCheckTimeoutSecondsDefault,
      },
      retries: {
        title: 'Retries',
        description: 'Failed checks in a row that make the module unhealthy.',
        type: 'integer',
        minimum: 1,
        maximum: 0x7fffffff,
        default: limits.healthCheckRetriesDefault,
      },
    },
  },
  module: {
    title: 'Module',
    type: 'object',
    required: ['type', 'settings'],
    additionalProperties: false,
    properties: {
      version: { title: 'Version', description: 'Free text; a change redeploys the module.', type: 'string' },
      type: {
        title: 'Module type',
        description: 'docker: a container (IoT Edge); process: a child process on the node (Tandem).',
        type: 'string',
        enum: ['docker', 'process'],
      },
      status: ref('status'),
      restartPolicy: ref('restartPolicy'),
      startupOrder: ref('startupOrder'),
      imagePullPolicy: ref('imagePullPolicy'),
      env: ref('env'),
      settings: {
        title: 'Settings',
        description: 'docker: { image, createOptions }; process: { command, args, cwd, env }.',
        type: 'object',
      },
      replicas: {
        title: 'Replicas (Tandem)',
        description: 'Instances of this module; each has its own identity.',
        type: 'integer',
        minimum: 1,
        maximum: limits.moduleReplicasMax,
        default: 1,
      },
      partitionKey: {
        title: 'Partition key (Tandem)',
        description: "The message property whose value picks a replica, so one key's messages stay in order.",
        type: 'string',
        minLength: 1,
      },
      resources: ref('resources'),
      nodeSelector: ref('nodeSelector'),
      volume: ref('volume'),
      healthCheck: ref('healthCheck'),
    },
    if: { required: ['type'], properties: { type: { const: 'process' } } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, not a thenable.
    then: { properties: { settings: ref('processSettings') } },
    else: { properties: { settings: ref('dockerSettings') } },
  },
  edgeAgentModule: {
    title: 'edgeAgent system module',
    description: 'Accepted for IoT Edge compatibility and validated; Tandem itself is the agent.',
    type: 'object',
    required: ['type', 'settings'],
    additionalProperties: false,
    properties: {
      type: { title: 'Module type', type: 'string', enum: ['docker'] },
      settings: ref('dockerSettings'),
      env: ref('env'),
      imagePullPolicy: ref('imagePullPolicy'),
    },
  },
  edgeHubModule: {
    title: 'edgeHub system module',
    description: 'Accepted for IoT Edge compatibility and validated; Tandem itself is the hub.',
    type: 'object',
    required: ['type', 'settings'],
    additionalProperties: false,
    properties: {
      type: { title: 'Module type', type: 'string', enum: ['docker'] },
      status: ref('status'),
      restartPolicy: ref('restartPolicy'),
      settings: ref('dockerSettings'),
      env: ref('env'),
      startupOrder: ref('startupOrder'),
      imagePullPolicy: ref('imagePullPolicy'),
    },
  },
};
