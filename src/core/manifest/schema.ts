/**
 * The JSON Schema (draft-07: what ajv's default build and VS Code's JSON service both handle
 * fully) of an IoT Edge deployment manifest, schema versions 1.0 and 1.1, with Tandem's
 * extensions. It lives here as an object so the pure core needs no file I/O; the published
 * copy, schema/deployment-manifest.schema.json, is written from it by
 * `node --import tsx schema/generate.ts`, and a unit test fails when the two differ.
 *
 * What a schema cannot say (routes parse, routes name deployed modules, createOptions is JSON,
 * module name rules, 1.1-only fields) is checked by read-deployment.ts.
 */
import { limits } from '../../limits.js';
import { definitions, ref, uint32Max } from './schema-definitions.js';

const runtime = {
  title: 'Container runtime',
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    type: { title: 'Runtime type', type: 'string', enum: ['docker'] },
    settings: {
      title: 'Runtime settings',
      type: 'object',
      additionalProperties: false,
      properties: {
        minDockerVersion: { title: 'Minimum Docker API version', type: 'string', examples: ['v1.25'] },
        loggingOptions: { title: 'Docker logging options', description: 'A JSON string.', type: 'string' },
        registryCredentials: {
          title: 'Registry credentials',
          description: 'Container registry logins, by any name.',
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['username', 'password', 'address'],
            additionalProperties: false,
            properties: {
              username: { title: 'User name', type: 'string' },
              password: { title: 'Password', type: 'string' },
              address: { title: 'Registry address', type: 'string', examples: ['myregistry.azurecr.io'] },
            },
          },
        },
      },
    },
  },
};

const edgeAgentDesired = {
  title: 'edgeAgent desired properties',
  type: 'object',
  required: ['schemaVersion'],
  additionalProperties: false,
  properties: {
    schemaVersion: ref('schemaVersion'),
    runtime,
    systemModules: {
      title: 'System modules',
      type: 'object',
      additionalProperties: false,
      properties: { edgeAgent: ref('edgeAgentModule'), edgeHub: ref('edgeHubModule') },
    },
    modules: {
      title: 'Modules',
      description: `The modules to run, by name (IoT Hub module id rules; at most ${limits.modulesCountMax}).`,
      type: 'object',
      maxProperties: limits.modulesCountMax,
      additionalProperties: ref('module'),
    },
  },
};

const route = {
  title: 'Route',
  description:
    'FROM <source> [WHERE <condition>] INTO <sink>, as a string, or (schema 1.1) { route, priority, timeToLiveSecs }.',
  type: ['string', 'object'],
  minLength: 1,
  required: ['route'],
  additionalProperties: false,
  properties: {
    route: { title: 'Route', type: 'string', minLength: 1, examples: ['FROM /messages/* INTO $upstream'] },
    priority: {
      title: 'Priority',
      description: '0 (highest) to 9.',
      type: 'integer',
      minimum: 0,
      maximum: 9,
    },
    timeToLiveSecs: {
      title: 'Time to live',
      description: "Seconds a message routed here is kept; 0 means the hub's storeAndForwardConfiguration.",
      type: 'integer',
      minimum: 0,
      maximum: uint32Max,
    },
  },
};

const edgeHubDesired = {
  title: 'edgeHub desired properties',
  type: 'object',
  required: ['schemaVersion'],
  additionalProperties: false,
  properties: {
    schemaVersion: ref('schemaVersion'),
    routes: {
      title: 'Routes',
      description: `Named routes (at most ${limits.routesCountMax}).`,
      type: 'object',
      maxProperties: limits.routesCountMax,
      propertyNames: { description: 'a non-empty route name', type: 'string', minLength: 1 },
      additionalProperties: route,
    },
    storeAndForwardConfiguration: {
      title: 'Store and forward',
      type: 'object',
      additionalProperties: false,
      properties: {
        timeToLiveSecs: {
          title: 'Time to live',
          description: `Seconds a message is kept for an endpoint that does not take it (default ${limits.messageTtlSecondsDefault}).`,
          type: 'integer',
          minimum: 0,
          maximum: uint32Max,
        },
      },
    },
  },
};

const twinOf = (what: string, desired: object) => ({
  title: what,
  type: 'object',
  required: ['properties.desired'],
  additionalProperties: false,
  properties: { 'properties.desired': desired },
});

const modulesContent = {
  title: 'Modules content',
  description:
    '$edgeAgent, $edgeHub, and the desired twin properties of any deployed module, by module name.',
  type: 'object',
  required: ['$edgeAgent', '$edgeHub'],
  properties: {
    $edgeAgent: twinOf('edgeAgent twin: the modules to run', edgeAgentDesired),
    $edgeHub: twinOf('edgeHub twin: routes and store-and-forward', edgeHubDesired),
  },
  additionalProperties: twinOf('Module twin', {
    title: 'Desired properties',
    description: "The module twin's desired properties. Free-form.",
    type: 'object',
  }),
};

export const manifestSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Tandem deployment manifest',
  description:
    'An Azure IoT Edge deployment manifest (schema 1.0 or 1.1) with Tandem extensions: process modules, replicas, partitionKey, resources, healthCheck.',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { title: 'Schema', description: 'Where an editor finds this schema.', type: 'string' },
    modulesContent: modulesContent,
    content: {
      title: 'Content',
      description: 'The wrapper `az iot edge` deployments use around modulesContent.',
      type: 'object',
      required: ['modulesContent'],
      additionalProperties: false,
      properties: { modulesContent: { $ref: '#/properties/modulesContent' } },
    },
  },
  // Exactly one of modulesContent and content. (`properties` beside `required` keeps ajv's strict mode content.)
  if: { properties: { content: { type: 'object' } }, required: ['content'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, not a thenable.
  then: {
    properties: {
      modulesContent: {
        not: {},
        description: 'use either modulesContent or content.modulesContent, not both',
      },
    },
  },
  else: { properties: { modulesContent: { type: 'object' } }, required: ['modulesContent'] },
  definitions,
};
