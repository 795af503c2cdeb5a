import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Deployment, readDeployment } from '../../../src/core/manifest/index.js';
import { isTandemError } from '../../../src/errors.js';
import { repoRoot } from '../../support/paths.js';

// biome-ignore lint/suspicious/noExplicitAny: tests reach into manifests by path and mutate them.
export type Json = any;

export function fixtureText(name: string): string {
  return readFileSync(path.join(repoRoot, 'test/fixtures/manifests', name), 'utf8');
}

/** A fresh copy of a fixture manifest (plain JSON.parse: the fixtures have no duplicate keys). */
export function fixture(name: string): Json {
  return JSON.parse(fixtureText(name));
}

export const agentPath = "$.modulesContent.$edgeAgent['properties.desired']";
export const hubPath = "$.modulesContent.$edgeHub['properties.desired']";
export const modulesPath = `${agentPath}.modules`;

export const agentOf = (m: Json): Json => m.modulesContent.$edgeAgent['properties.desired'];
export const hubOf = (m: Json): Json => m.modulesContent.$edgeHub['properties.desired'];

/** The smallest valid manifest, schema 1.1, no modules: tests add what they need. */
export function minimal(schemaVersion = '1.1'): Json {
  return {
    modulesContent: {
      $edgeAgent: { 'properties.desired': { schemaVersion, modules: {} } },
      $edgeHub: { 'properties.desired': { schemaVersion, routes: {} } },
    },
  };
}

export interface CaughtManifestError {
  readonly message: string;
  readonly path: string;
  readonly errors: readonly { path: string; expected: string; line?: number; column?: number }[];
}

/** Runs `fn`, which must throw TANDEM_E_MANIFEST, and returns what the error says. */
export function manifestErrorOf(fn: () => unknown): CaughtManifestError {
  try {
    fn();
  } catch (err) {
    assert.ok(isTandemError(err, 'TANDEM_E_MANIFEST'), `expected TANDEM_E_MANIFEST, got ${String(err)}`);
    const details = err.details as { path: string; errors: CaughtManifestError['errors'] };
    return { message: err.message, path: details.path, errors: details.errors };
  }
  assert.fail('expected a TANDEM_E_MANIFEST error, but nothing was thrown');
}

/**
 * A manifest that says everything a Deployment says, explicitly: reading it must give the same
 * Deployment back (the property test's round trip).
 */
export function toManifest(d: Deployment): Json {
  const since11 = d.schemaVersion !== '1.0';
  const modules = Object.fromEntries(
    Object.values(d.modules).map((m) => {
      const settings =
        m.settings.kind === 'docker'
          ? { image: m.settings.image, createOptions: JSON.stringify(m.settings.createOptions) }
          : {
              command: m.settings.command,
              args: m.settings.args,
              ...(m.settings.cwd !== undefined && { cwd: m.settings.cwd }),
              env: m.settings.env,
              ...(m.settings.auth !== undefined && { auth: m.settings.auth }),
            };
      const spec = {
        ...(m.version !== undefined && { version: m.version }),
        type: m.type,
        status: m.status,
        restartPolicy: m.restartPolicy,
        ...(since11 && { startupOrder: m.startupOrder }),
        ...(m.imagePullPolicy !== undefined && { imagePullPolicy: m.imagePullPolicy }),
        env: Object.fromEntries(Object.entries(m.env).map(([k, value]) => [k, { value }])),
        settings,
        replicas: m.replicas,
        ...(m.partitionKey !== undefined && { partitionKey: m.partitionKey }),
        ...(m.resources !== undefined && { resources: m.resources }),
        ...(m.healthCheck !== undefined && { healthCheck: m.healthCheck }),
      };
      return [m.name, spec];
    }),
  );
  const hub = d.edgeHub;
  const routes = Object.fromEntries(
    Object.entries(hub.routes).map(([name, r]) => [name, hub.schemaVersion === '1.0' ? r.route : r]),
  );
  const twins = Object.fromEntries(
    Object.entries(d.moduleTwins).map(([name, desired]) => [name, { 'properties.desired': desired }]),
  );
  return {
    modulesContent: {
      $edgeAgent: { 'properties.desired': { schemaVersion: d.schemaVersion, modules } },
      $edgeHub: {
        'properties.desired': {
          schemaVersion: hub.schemaVersion,
          routes,
          storeAndForwardConfiguration: { timeToLiveSecs: hub.timeToLiveSecs },
        },
      },
      ...twins,
    },
  };
}

/** The Microsoft-style fixture, changed by `edit`, then read: the error that gives. */
export function errorAfter(edit: (m: Json) => void): CaughtManifestError {
  const m = fixture('simulated-temperature-1.1.json');
  edit(m);
  return manifestErrorOf(() => readDeployment(m));
}
