/**
 * The CLI's long-running commands as real child processes: `monitor` seeing what a real
 * MQTT.js device publishes, `logs --tail` across a rotation and `logs -f` seeing appended
 * lines, `status --watch` printing key=value lines to a pipe; all stop on Ctrl-C with exit 0
 * and never write ANSI escapes to a pipe. The agent is StandInAgent; log files are real.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MonitorEvent } from '../../src/api/types.js';
import { moduleStatus, StandInAgent } from '../api/stand-in-agent.js';
import { connectClient, telemetryTopic } from '../support/clients.js';
import { startAgentApi, startTestNode, type TestApi, type TestNode } from '../support/node.js';
import { runTandem } from '../support/process-node.js';
import { ANSI, TandemChild } from './spawn.js';

let t: TestNode;
let api: TestApi;
let logDir: string;

before(async () => {
  t = await startTestNode({
    routes: {
      toFilter: 'FROM /messages/* WHERE kind = "reading" INTO BrokeredEndpoint("/modules/filter/inputs/in1")',
      up: 'FROM /messages/* INTO $upstream',
    },
  });
  logDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-cli-logs-'));
  const agent = new StandInAgent(logDir, [moduleStatus('filter'), moduleStatus('chatty')]);
  api = await startAgentApi(t, { agent });
});
after(async () => {
  await api.close();
  await t.stop();
  await rm(logDir, { recursive: true, force: true });
});

function start(...args: string[]): TandemChild {
  // FORCE_COLOR must not matter: colour follows the TTY and NO_COLOR only.
  return new TandemChild([...args, '--data-dir', api.dataDir], { ...process.env, FORCE_COLOR: '1' });
}

async function stop(child: TandemChild): Promise<void> {
  assert.equal(await child.interrupt(), 0, child.err);
  assert.doesNotMatch(child.out, ANSI);
  assert.doesNotMatch(child.err, ANSI);
}

test('monitor --json prints a line per message a real device publishes', async () => {
  const monitor = start('monitor', '--json');
  await monitor.waitFor((c) => c.err.includes('monitoring'), 'the monitor to start');
  const device = await connectClient(t.plain, await t.identity('mon-dev'));
  await device.publishAsync(telemetryTopic('mon-dev', 'kind=reading'), '{"temperature":31}', { qos: 1 });
  await monitor.waitFor((c) => c.out.includes('\n'), 'a monitor line');
  await device.endAsync();
  await stop(monitor);
  const event = JSON.parse(monitor.out.split('\n')[0]!) as MonitorEvent;
  assert.equal(event.source, 'mon-dev');
  assert.deepEqual([...event.to].sort(), ['module/filter/in1', 'upstream']);
  assert.deepEqual(event.properties, { kind: 'reading' });
  assert.equal(event.body, '{"temperature":31}');
});

test('monitor --module shows one line per message from or to that module', async () => {
  const monitor = start('monitor', '--module', 'filter');
  await monitor.waitFor(
    (c) => c.err.includes('monitoring messages from or to filter'),
    'the monitor to start',
  );
  const device = await connectClient(t.plain, await t.identity('mon-dev2'));
  await device.publishAsync(telemetryTopic('mon-dev2'), 'skipped: upstream only', { qos: 1 });
  await device.publishAsync(telemetryTopic('mon-dev2', 'kind=reading'), 'line one\nline two', { qos: 1 });
  await monitor.waitFor((c) => c.out.includes('\n'), 'a monitor line');
  await device.endAsync();
  await stop(monitor);
  const lines = monitor.out.trimEnd().split('\n');
  assert.equal(lines.length, 1, monitor.out);
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} {2}mon-dev2 -> /);
  assert.match(lines[0]!, /module\/filter\/in1/);
  assert.match(lines[0]!, / {2}\{kind=reading\} {2}line one\\nline two$/);
});

test('logs --tail reaches into the rotation; -f prints appended lines until Ctrl-C', async () => {
  await writeFile(path.join(logDir, 'chatty.log.1'), 'old 1\nold 2\nold 3\n');
  await writeFile(path.join(logDir, 'chatty.log'), 'new 1\n');
  const tail = await runTandem(['logs', 'chatty', '--tail', '3', '--data-dir', api.dataDir]);
  assert.equal(tail.code, 0, tail.err);
  assert.equal(tail.out, 'old 2\nold 3\nnew 1\n');
  const unknown = await runTandem(['logs', 'nobody', '--data-dir', api.dataDir]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /TANDEM_E_MODULE_NOT_FOUND/);

  const follow = start('logs', 'chatty', '-f', '--tail', '1');
  await follow.waitFor((c) => c.out === 'new 1\n', 'the tail');
  await appendFile(path.join(logDir, 'chatty.log'), 'new 2\n');
  await follow.waitFor((c) => c.out === 'new 1\nnew 2\n', 'the appended line');
  await stop(follow);
});

test('status --watch to a pipe prints timestamped key=value lines until Ctrl-C', async () => {
  const watch = start('status', '--watch');
  await watch.waitFor((c) => /module chatty /.test(c.out), 'a status round');
  await stop(watch);
  assert.match(watch.out, /^\d{4}-\d\d-\d\dT[\d:.]+Z status modules=2 running=2 clients=\d+ queued=\d+$/m);
  assert.match(watch.out, /^\S+ module filter state=running desired=running restarts=0 queue=\d+$/m);
});
