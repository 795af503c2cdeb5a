/**
 * Azure IoT Edge deployment manifests (schema 1.0/1.1 plus Tandem's extensions) as a pure core:
 * manifest text to JSON without losing duplicate keys, and a manifest to the Deployment model.
 * See docs/manifest.md.
 */
export type {
  Deployment,
  DesiredStatus,
  DockerSettings,
  HealthCheck,
  ModuleSpec,
  ProcessSettings,
  Resources,
  RestartPolicy,
} from './deployment.js';
export { type EdgeHubSettings, type RouteSpec, readEdgeHubSettings } from './edgehub.js';
export { parseManifestText } from './json-text.js';
export { readDeployment } from './read-deployment.js';
export { manifestSchema } from './schema.js';
export type { ManifestProblem } from './validate.js';
