/**
 * The CLI commands as real child processes against a real hub over the real local API:
 * help and usage errors, NOT_RUNNING, status, validate, deploy, twins and direct methods
 * (answered by a real MQTT.js module client). Output to a pipe never carries ANSI escapes.
 * Commands that need an agent talk to StandInAgent until the real agent lands.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { StatusResponse } from '../../src/api/types.js';
import { writePorts } from '../../src/runtime/data-dir.js';
import { processModule, testManifest } from '../api/manifests.js';
import { moduleStatus, StandInAgent } from '../api/stand-in-agent.js';
import { connectClient, telemetryTopic } from '../support/clients.js';
import { startAgentApi, startTestNode, type TestApi, type TestNode } from '../support/node.js';
import { runTandem } from '../support/process-node.js';
import { ANSI } from './spawn.js';

let t: TestNode;
let api: TestApi;
let agent: StandInAgent;
let dir: string;

before(async () => {
  t = await startTestNode({ routes: { up: 'FROM /messages/* INTO $upstream' } });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-cli-cmd-'));
  agent = new StandInAgent(dir, [
    moduleStatus('filter', { pid: 4242 }),
    moduleStatus('a-module-with-a-rather-long-name-indeed', {
      state: 'failed',
      restartCount: 7,
      exitCode: 127,
      error: 'command not found: /opt/nothing/here/at/all/with/a/very/long/path/that/goes/on',
    }),
  ]);
  api = await startAgentApi(t, {
    agent,
    upstreamStatus: () => ({ state: 'connected', target: { url: 'mqtts://cloud:8883' } }),
  });
});
after(async () => {
  await api.close();
  await t.stop();
  await rm(dir, { recursive: true, force: true });
});

/** `tandem <args> --data-dir <the stand-in API's dir>`; asserts no ANSI escapes reached the pipes. */
async function tandem(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return local(...args, '--data-dir', api.dataDir);
}

/** `tandem <args>` as given (validate needs no instance); asserts no ANSI escapes reached the pipes. */
async function local(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runTandem(args);
  assert.doesNotMatch(r.out, ANSI, `ANSI escapes in stdout of ${args.join(' ')}`);
  assert.doesNotMatch(r.err, ANSI, `ANSI escapes in stderr of ${args.join(' ')}`);
  return r;
}

test('every command has --help (exit 0); usage errors exit non-zero with a message', async () => {
  const commands = [
    'up',
    'status',
    'deploy',
    'validate',
    'logs',
    'monitor',
    'twin',
    'invoke',
    'identity',
    'demo',
  ];
  const helps = await Promise.all(commands.map((c) => runTandem([c, '--help'])));
  for (const [i, r] of helps.entries()) {
    assert.equal(r.code, 0, `${commands[i]} --help: ${r.err}`);
    assert.match(r.out, new RegExp(`^Usage: tandem ${commands[i]}`));
  }
  const top = await runTandem(['--help']);
  for (const c of commands) assert.match(top.out, new RegExp(`^  ${c}\\b`, 'm'), `${c} in the usage text`);
  const usageErrors = await Promise.all([
    runTandem(['status', '--bogus']),
    runTandem(['logs']),
    runTandem(['invoke', 'dev1']),
    runTandem(['logs', 'm', '--tail', '-3']),
    runTandem(['invoke', 'dev1', 'm', '--timeout', '9999']),
    runTandem(['twin', 'frob', 'x']),
    runTandem(['status', 'extra']),
  ]);
  for (const r of usageErrors) {
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^tandem: TANDEM_E_CONFIG: /);
  }
  assert.equal((await runTandem(['nosuchcommand'])).code, 2);
});

test('NOT_RUNNING names the data directory and suggests tandem up', async () => {
  const empty = path.join(dir, 'no-instance');
  const r = await runTandem(['status', '--data-dir', empty]);
  assert.equal(r.code, 1);
  assert.match(r.err, /TANDEM_E_NOT_RUNNING/);
  assert.ok(r.err.includes(path.resolve(empty)), r.err);
  assert.match(r.err, /tandem up/);
  // A ports file left behind by an instance that is gone: nothing answers on its port.
  const stale = path.join(dir, 'stale');
  await mkdir(stale);
  const gone = await startAgentApi(t, {});
  await gone.close();
  await writePorts(stale, { pid: process.pid, host: '127.0.0.1', api: gone.port });
  const refused = await runTandem(['logs', 'filter', '--data-dir', stale]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /TANDEM_E_NOT_RUNNING.*nothing answers/);
});

test('status --json is the API status; the table fits 80 columns', async () => {
  const device = await connectClient(t.plain, await t.identity('status-dev'));
  await device.publishAsync(telemetryTopic('status-dev'), 'queued upstream', { qos: 1 });
  await device.endAsync();
  const json = await tandem('status', '--json');
  assert.equal(json.code, 0, json.err);
  const fromCli = JSON.parse(json.out) as StatusResponse;
  const fromApi = (await (await fetch(`${api.base}/api/v1/status`)).json()) as StatusResponse;
  assert.deepEqual(fromCli, fromApi);
  const human = await tandem('status');
  assert.equal(human.code, 0, human.err);
  assert.match(human.out, /MODULE\s+TYPE\s+DESIRED\s+STATE\s+RESTARTS\s+EXIT\s+PID\s+QUEUE/);
  assert.match(human.out, /^filter\s+process\s+running\s+running\s+0\s+-\s+4242\s+0$/m);
  assert.match(human.out, /! a-module-with-a-rather-long-name-indeed: command not found/);
  assert.match(human.out, /^upstream: connected {2}mqtts:\/\/cloud:8883 \(queue 1\)$/m);
  assert.match(human.out, /^upstream\s+1\s+0\s+0\s+0\s+none$/m);
  assert.match(human.out, /^edge1 @ test-hub\.local {2}mqtts \d+ {2}mqtt \d+ {2}clients \d+$/m);
  for (const line of human.out.split('\n')) assert.ok(line.length <= 80, `too wide: ${line}`);
});

test('validate: valid counts modules and routes; invalid lists every problem with its path', async () => {
  const good = path.join(dir, 'good.json');
  await writeFile(
    good,
    JSON.stringify(testManifest({ filter: processModule('node'), alerts: processModule('x') })),
  );
  const ok = await local('validate', good);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(ok.out, 'valid: 2 modules, 1 route\n');
  assert.deepEqual(JSON.parse((await local('validate', good, '--json')).out), {
    valid: true,
    modules: 2,
    routes: 1,
  });

  const bad = path.join(dir, 'bad.json');
  const manifest = testManifest({
    filter: processModule('node', { status: 'sometimes' }),
    alerts: processModule('x', { restartPolicy: 'maybe' }),
  });
  await writeFile(bad, JSON.stringify(manifest));
  const invalid = await local('validate', bad);
  assert.equal(invalid.code, 1);
  assert.match(invalid.err, /modules\.filter\.status: /);
  assert.match(invalid.err, /modules\.alerts\.restartPolicy: /);
  const asJson = JSON.parse((await local('validate', bad, '--json')).out) as {
    valid: boolean;
    errors: Array<{ path: string }>;
  };
  assert.equal(asJson.valid, false);
  assert.ok(asJson.errors.some((e) => e.path.endsWith('modules.filter.status')));

  const dup = path.join(dir, 'dup.json');
  await writeFile(dup, '{\n  "modulesContent": {},\n  "modulesContent": {}\n}\n');
  const duplicate = await local('validate', dup);
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.err, /line 3, column \d+: duplicate key/);
  const missing = await local('validate', path.join(dir, 'missing.json'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read manifest/);
});

test('deploy: --dry-run prints the plan and applies nothing; deploy applies; bad manifest exits 1', async () => {
  const file = path.join(dir, 'deploy.json');
  await writeFile(
    file,
    JSON.stringify(
      testManifest({ filter: processModule('node'), alerts: processModule('./alerts', { startupOrder: 1 }) }),
    ),
  );
  const before = agent.modules.map((m) => m.name);
  const dry = await tandem('deploy', file, '--dry-run');
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /dry run, nothing applied/);
  assert.match(
    dry.out,
    /first, stops and removals:\n\s+stop\s+a-module-with-a-rather-long-name-indeed\s+removed/,
  );
  assert.match(dry.out, /startupOrder 1:\n\s+start\s+alerts\s+new module/);
  assert.match(dry.out, /unchanged: filter/);
  assert.match(dry.out, /routes: changed/);
  assert.deepEqual(
    agent.modules.map((m) => m.name),
    before,
  );
  assert.deepEqual(agent.calls.at(-1)?.options, { baseDir: dir, dryRun: true });

  const applied = await tandem('deploy', file, '--yes');
  assert.equal(applied.code, 0, applied.err);
  assert.match(applied.out, /applied: 2 steps/);
  assert.deepEqual(
    agent.modules.map((m) => m.name),
    ['filter', 'alerts'],
  );
  const again = JSON.parse((await tandem('deploy', file, '--json')).out) as {
    applied: boolean;
    plan: { steps: [] };
  };
  assert.deepEqual(again.plan.steps, []);

  const bad = path.join(dir, 'deploy-bad.json');
  await writeFile(
    bad,
    JSON.stringify(testManifest({ filter: processModule('node', { status: 'sometimes', bogus: 1 }) })),
  );
  const refused = await tandem('deploy', bad);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /TANDEM_E_MANIFEST: \$.*modules\.filter/);
  assert.match(refused.err, /\n {2}\$.*modules\.filter\.bogus: unknown field/);
  assert.deepEqual(
    agent.modules.map((m) => m.name),
    ['filter', 'alerts'],
  );
});

test('twin set-desired and get round trip, JSON text or @file', async () => {
  const set = await tandem('twin', 'set-desired', 'cli-dev', '{"mode":"eco","level":3}');
  assert.equal(set.code, 0, set.err);
  assert.match(set.out, /now version 2/);
  const patchFile = path.join(dir, 'patch.json');
  await writeFile(patchFile, '{"level": null}');
  assert.deepEqual(
    JSON.parse((await tandem('twin', 'set-desired', 'cli-dev', `@${patchFile}`, '--json')).out),
    {
      version: 3,
    },
  );
  const got = JSON.parse((await tandem('twin', 'get', 'cli-dev', '--json')).out) as {
    desired: Record<string, unknown>;
  };
  assert.deepEqual(got.desired, { mode: 'eco', $version: 3 });
  const human = await tandem('twin', 'get', 'cli-dev');
  assert.match(
    human.out,
    /^desired \(version 3\):\n\{\n {2}"mode": "eco"\n\}\nreported \(version 1\):\n\{\}\n$/,
  );
  const notJson = await tandem('twin', 'set-desired', 'cli-dev', '{mode: eco}');
  assert.equal(notJson.code, 1);
  assert.match(notJson.err, /TANDEM_E_CONFIG: the patch is not JSON/);
  const notObject = await tandem('twin', 'set-desired', 'cli-dev', '[1]');
  assert.equal(notObject.code, 1);
  assert.match(notObject.err, /TANDEM_E_TWIN/);
});

test('invoke: a real module client answers; status >= 400 and offline targets exit 1', async () => {
  const edge = t.node.edgeDeviceId;
  const module = await connectClient(t.plain, await t.identity(edge, 'echo'));
  await module.subscribeAsync('$iothub/methods/POST/#', { qos: 0 });
  module.on('message', (topic, payload) => {
    const name = topic.split('/')[3];
    const rid = new URLSearchParams(topic.split('?')[1]).get('$rid');
    const status = name === 'fail' ? 500 : 200;
    module.publish(
      `$iothub/methods/res/${status}/?$rid=${rid}`,
      JSON.stringify({ echo: JSON.parse(payload.toString()) }),
    );
  });
  const ok = await tandem('invoke', `${edge}/echo`, 'ping', '--payload', '{"x":1}', '--json');
  assert.equal(ok.code, 0, ok.err);
  assert.deepEqual(JSON.parse(ok.out), { status: 200, payload: { echo: { x: 1 } } });
  const human = await tandem('invoke', `${edge}/echo`, 'ping', '--timeout', '5');
  assert.match(human.out, /^status 200\n\{\n {2}"echo": null\n\}\n$/);
  const failed = await tandem('invoke', `${edge}/echo`, 'fail');
  assert.equal(failed.code, 1);
  assert.match(failed.out, /^status 500/);
  await module.endAsync();
  const offline = await tandem('invoke', `${edge}/echo`, 'ping');
  assert.equal(offline.code, 1);
  assert.match(offline.err, /TANDEM_E_METHOD_OFFLINE/);
});
