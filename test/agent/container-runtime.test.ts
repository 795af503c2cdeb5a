/**
 * The container runtime probe for real, on this host. Here the docker CLI exists but no engine
 * runs, and podman is not installed: a docker module must fail to start with a message that
 * says exactly that. Where an engine does run, the probe must find it instead.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ContainerRuntimeDetector, execCli } from '../../src/agent/container-cli.js';
import { ContainerRunner } from '../../src/agent/container-runner.js';
import { isTandemError } from '../../src/errors.js';

test('the real probe names each runtime tried and why it failed (or finds a working one)', async () => {
  const probe = await new ContainerRuntimeDetector().detect();
  if (probe.ok) {
    assert.ok(['docker', 'podman'].includes(probe.runtime));
    return;
  }
  assert.match(probe.message, /^no container runtime: docker: .+; podman: .+$/);
  const docker = probe.tried.find((t) => t.runtime === 'docker');
  const cli = await execCli('docker', ['--version'], 10_000);
  if (cli.ok)
    assert.match(docker?.problem ?? '', /docker daemon|connect|permission/i, 'CLI present, engine absent');
  else assert.equal(docker?.problem, 'not found');
});

test('starting a docker module without an engine is a typed start failure with that message', async (t) => {
  const detector = new ContainerRuntimeDetector();
  const probe = await detector.detect();
  if (probe.ok) return t.skip(`a container runtime works here (${probe.runtime})`);
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-ctr-'));
  try {
    const runner = new ContainerRunner({ detector });
    const launch = {
      module: 'sensor',
      settings: { kind: 'docker' as const, image: 'example/sensor:1', createOptions: {} },
      env: {},
      logDir,
      restartPolicy: 'always' as const,
      desired: 'running' as const,
      generationId: 'g',
    };
    await assert.rejects(runner.start(launch, 0), (err: unknown) => {
      assert.ok(isTandemError(err, 'TANDEM_E_MODULE_START'));
      assert.equal(err.message, `module 'sensor': ${probe.message}`);
      return true;
    });
  } finally {
    await rm(logDir, { recursive: true, force: true });
  }
});
