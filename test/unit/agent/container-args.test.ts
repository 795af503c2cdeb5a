/** `docker run` arguments from an IoT Edge docker module (pure). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRunArgs, containerName } from '../../../src/agent/container-args.js';
import { ContainerRuntimeDetector } from '../../../src/agent/container-cli.js';
import { ManualClock } from '../../../src/util/clock.js';

const base = {
  module: 'filter',
  image: 'mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.5',
  env: {},
  generationId: 'g1',
};

test('the minimum: detached, named, labelled, image last', () => {
  const r = buildRunArgs({ ...base, createOptions: {} });
  assert.equal(r.name, 'tandem-filter');
  assert.deepEqual(r.args, [
    'run',
    '--detach',
    '--name',
    'tandem-filter',
    '--label',
    'tandem.module=filter',
    '--label',
    'tandem.generation=g1',
    base.image,
  ]);
  assert.deepEqual(r.ignored, []);
});

test('createOptions that map cleanly become flags; module env comes after createOptions.Env', () => {
  const r = buildRunArgs({
    ...base,
    env: { LOG_LEVEL: 'debug' },
    createOptions: {
      Env: ['LOG_LEVEL=info', 'A=1'],
      Cmd: ['--interval', '5'],
      Entrypoint: ['/app/run', '--verbose'],
      WorkingDir: '/app',
      User: '1000:1000',
      Labels: { owner: 'ops' },
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: {
        Binds: ['/data:/data:ro'],
        PortBindings: {
          '8080/tcp': [{ HostPort: '18080' }],
          '5671/tcp': [{ HostIp: '127.0.0.1', HostPort: '5671' }],
          '9000/udp': [{}],
        },
        NetworkMode: 'azure-iot-edge',
        Privileged: true,
        Memory: 536870912,
        NanoCpus: 1500000000,
        Devices: [{ PathOnHost: '/dev/ttyUSB0', PathInContainer: '/dev/ttyS0', CgroupPermissions: 'rwm' }],
        CapAdd: ['NET_ADMIN'],
        ReadonlyRootfs: false,
      },
    },
  });
  const a = r.args;
  const pairs = (flag: string) => a.flatMap((x, i) => (x === flag ? [a[i + 1]] : []));
  assert.deepEqual(pairs('--env'), ['LOG_LEVEL=info', 'A=1', 'LOG_LEVEL=debug']);
  assert.deepEqual(pairs('--volume'), ['/data:/data:ro']);
  assert.deepEqual(pairs('--publish'), ['18080:8080/tcp', '127.0.0.1:5671:5671/tcp', '9000/udp']);
  assert.deepEqual(pairs('--network'), ['azure-iot-edge']);
  assert.deepEqual(pairs('--memory'), ['536870912']);
  assert.deepEqual(pairs('--cpus'), ['1.5']);
  assert.deepEqual(pairs('--device'), ['/dev/ttyUSB0:/dev/ttyS0:rwm']);
  assert.deepEqual(pairs('--cap-add'), ['NET_ADMIN']);
  assert.deepEqual(pairs('--workdir'), ['/app']);
  assert.deepEqual(pairs('--user'), ['1000:1000']);
  assert.deepEqual(pairs('--expose'), ['8080/tcp']);
  assert.deepEqual(pairs('--entrypoint'), ['/app/run']);
  assert.ok(a.includes('--privileged'));
  assert.ok(!a.includes('--read-only'), 'false toggles add nothing');
  assert.ok(a.includes('owner=ops'));
  // Entrypoint's rest, then Cmd, after the image: what the engine would run.
  assert.deepEqual(a.slice(a.indexOf(base.image)), [base.image, '--verbose', '--interval', '5']);
  assert.deepEqual(r.ignored, []);
});

test('what does not map is reported, not silently dropped; a string Cmd is one word', () => {
  const r = buildRunArgs({
    ...base,
    createOptions: {
      Cmd: 'serve',
      Healthcheck: { Test: ['CMD', 'true'] },
      NetworkingConfig: { EndpointsConfig: {} },
      HostConfig: {
        RestartPolicy: { Name: 'always' },
        LogConfig: { Type: 'json-file' },
        Mounts: [],
        Binds: 'oops',
      },
    },
  });
  assert.deepEqual(r.args.slice(-2), [base.image, 'serve']);
  assert.deepEqual(r.ignored.sort(), [
    'Healthcheck',
    'HostConfig.Binds (unexpected value)',
    'HostConfig.LogConfig',
    'HostConfig.Mounts',
    'HostConfig.RestartPolicy',
    'NetworkingConfig',
  ]);
});

test('an empty Entrypoint resets it; odd module names become valid container names', () => {
  const r = buildRunArgs({ ...base, createOptions: { Entrypoint: [] } });
  assert.deepEqual(r.args.slice(r.args.indexOf('--entrypoint'), r.args.indexOf('--entrypoint') + 2), [
    '--entrypoint',
    '',
  ]);
  assert.equal(containerName('my:module@1'), 'tandem-my_module_1');
});

test('the runtime probe tries docker then podman, says why each failed, and caches the answer', async () => {
  const clock = new ManualClock();
  const calls: string[] = [];
  const detector = new ContainerRuntimeDetector({
    clock,
    cacheMs: 60_000,
    exec: async (bin) => {
      calls.push(bin);
      return bin === 'docker'
        ? { ok: false, stdout: '', stderr: '', problem: 'Cannot connect to the Docker daemon' }
        : { ok: false, stdout: '', stderr: '', problem: 'not found' };
    },
  });
  const probe = await detector.detect();
  assert.deepEqual(probe, {
    ok: false,
    message: 'no container runtime: docker: Cannot connect to the Docker daemon; podman: not found',
    tried: [
      { runtime: 'docker', problem: 'Cannot connect to the Docker daemon' },
      { runtime: 'podman', problem: 'not found' },
    ],
  });
  await detector.detect();
  assert.deepEqual(calls, ['docker', 'podman'], 'cached');
  clock.advance(60_000);
  await detector.detect();
  assert.equal(calls.length, 4, 'probed again once the cache expired');
});
