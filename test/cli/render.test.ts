/**
 * The CLI's pure renderers: the status view (`tandem status` and `tandem up`'s live view),
 * the deployment plan and monitor lines; colour only when asked for, 80 columns kept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MonitorEvent, StatusResponse } from '../../src/api/types.js';
import { renderPlan } from '../../src/cli/deploy.js';
import { formatMonitorEvent } from '../../src/cli/monitor.js';
import { table, useColor, visibleLength } from '../../src/cli/output.js';
import {
  describeCluster,
  describeUpstream,
  renderStatus,
  renderStatusLines,
} from '../../src/cli/render-status.js';
import { moduleStatus } from '../api/stand-in-agent.js';
import { ANSI } from './spawn.js';

const status: StatusResponse = {
  hubName: 'plant.local',
  edgeDeviceId: 'line-3-gateway',
  ports: { mqtts: 8883, mqtt: 1883 },
  connected: ['line-3-gateway/filter', 'sensor-1'],
  endpoints: [
    { stream: 'c2d/sensor-1', queueLength: 2, attached: false, inflight: 0, delivered: 0, expired: 3 },
    {
      stream: 'module/filter/input1',
      queueLength: 5,
      attached: true,
      inflight: 5,
      delivered: 1200,
      expired: 0,
    },
    { stream: 'upstream', queueLength: 120, attached: true, inflight: 100, delivered: 98765, expired: 0 },
  ],
  modules: [
    moduleStatus('filter', { pid: 31337, queueLength: 5, lastStartTime: '2024-05-01T10:00:00Z' }),
    moduleStatus('temperature-sensor-with-a-long-name', {
      type: 'docker',
      state: 'backoff',
      restartCount: 4,
      signal: 'SIGKILL',
      nextRestartTime: '2024-05-01T10:01:20Z',
    }),
    moduleStatus('reporter', { state: 'failed', exitCode: 127, error: 'command not found: reporter' }),
    moduleStatus('archiver', { desired: 'stopped', state: 'stopped' }),
  ],
  deployment: { appliedAt: '2024-05-01T09:59:58Z', hash: 'a1b2c3d4e5f6' },
  upstream: { state: 'connected', target: { kind: 'iothub', url: 'mqtts://myhub.azure-devices.net:8883' } },
};

test('renderStatus: header, modules, errors, endpoints, upstream; within 80 columns; no colour unless asked', () => {
  const plain = renderStatus(status, { color: false });
  assert.doesNotMatch(plain, ANSI);
  for (const line of plain.split('\n')) assert.ok(line.length <= 80, `too wide (${line.length}): ${line}`);
  assert.match(plain, /^line-3-gateway @ plant\.local {2}mqtts 8883 {2}mqtt 1883 {2}clients 2$/m);
  assert.match(plain, /^deployment a1b2c3d4e5f6 {2}applied 2024-05-01T09:59:58Z$/m);
  assert.match(plain, /^filter\s+process\s+running\s+running\s+0\s+-\s+31337\s+5$/m);
  assert.match(plain, /^temperature-sensor-wit…\s+docker\s+running\s+backoff\s+4\s+KILL\s+-\s+0$/m);
  assert.match(plain, /^ {2}! temperature-sensor-with-a-long-name: backoff \(restart at 10:01:20\)$/m);
  assert.match(plain, /^ {2}! reporter: command not found: reporter$/m);
  assert.match(plain, /^upstream\s+120\s+100\s+98765\s+0\s+attached$/m);
  assert.match(plain, /^upstream: connected {2}mqtts:\/\/myhub\.azure-devices\.net:8883 \(queue 120\)$/m);
  const coloured = renderStatus(status, { color: true });
  assert.match(coloured, ANSI);
  // Same layout once the escapes are gone: colour must not shift columns.
  assert.equal(
    coloured
      .split('\n')
      .map((l) => visibleLength(l))
      .join(','),
    plain
      .split('\n')
      .map((l) => l.length)
      .join(','),
  );
  const narrow = renderStatus(status, { color: false, width: 60 });
  for (const line of narrow.split('\n')) assert.ok(line.length <= 60, `too wide for 60: ${line}`);
  assert.match(narrow, /^MODULE\s+DESIRED\s+STATE\s+RESTARTS\s+EXIT\s+PID\s+QUEUE$/m, 'TYPE left out first');
  const narrower = renderStatus(status, { color: false, width: 44 });
  assert.match(narrower, /^MODULE\s+STATE\s+RESTARTS\s+EXIT\s+QUEUE$/m, 'then DESIRED and PID');
});

test('renderStatus without an agent or endpoints says so', () => {
  const bare: StatusResponse = { hubName: 'h', edgeDeviceId: 'e', ports: {}, connected: [], endpoints: [] };
  assert.equal(renderStatus(bare, { color: false }), 'e @ h  clients 0\n\nendpoints: none yet\n');
  const none = renderStatus({ ...bare, modules: [] }, { color: false });
  assert.match(none, /modules: none deployed/);
});

test('renderStatusLines: one timestamped key=value line per thing, quoted where needed', () => {
  const lines = renderStatusLines(status, { now: new Date('2024-05-01T10:00:05Z') });
  assert.deepEqual(lines, [
    '2024-05-01T10:00:05.000Z status modules=4 running=1 clients=2 queued=127 deployment=a1b2c3d4e5f6',
    '2024-05-01T10:00:05.000Z module filter state=running desired=running restarts=0 pid=31337 queue=5',
    '2024-05-01T10:00:05.000Z module temperature-sensor-with-a-long-name state=backoff desired=running restarts=4 exit=SIGKILL queue=0',
    '2024-05-01T10:00:05.000Z module reporter state=failed desired=running restarts=0 exit=127 queue=0 error="command not found: reporter"',
    '2024-05-01T10:00:05.000Z module archiver state=stopped desired=stopped restarts=0 queue=0',
    '2024-05-01T10:00:05.000Z endpoint c2d/sensor-1 queued=2 inflight=0 delivered=0 expired=3',
    '2024-05-01T10:00:05.000Z endpoint module/filter/input1 queued=5 inflight=5 delivered=1200 expired=0',
    '2024-05-01T10:00:05.000Z endpoint upstream queued=120 inflight=100 delivered=98765 expired=0',
    '2024-05-01T10:00:05.000Z upstream connected  mqtts://myhub.azure-devices.net:8883 (queue 120)',
  ]);
});

test('describeUpstream: known fields picked out, anything else as JSON, a queue without a connector', () => {
  assert.equal(describeUpstream(undefined, undefined), undefined);
  assert.equal(describeUpstream(undefined, 3), 'no connector (queue 3)');
  assert.equal(
    describeUpstream(
      { state: 'backoff', nextAttemptAtMs: Date.parse('2024-05-01T10:00:09Z'), lastError: 'ECONNREFUSED' },
      7,
    ),
    'backoff  retry at 10:00:09  error: ECONNREFUSED (queue 7)',
  );
  assert.equal(describeUpstream({ connected: false }, undefined), 'disconnected');
  assert.equal(describeUpstream({ weird: 1 }, undefined), '{"weird":1}');
});

test('a cluster replica shows who it is, the live replicas and what it delivers, in both forms', () => {
  const cluster = { replica: 'r1', fenced: false, alive: ['r0', 'r1'], leases: ['module/f/in', 'upstream'] };
  assert.equal(describeCluster(cluster), 'replica=r1 alive=r0,r1 delivers=module/f/in,upstream');
  assert.equal(
    describeCluster({ ...cluster, fenced: true, leases: [] }),
    'replica=r1 alive=r0,r1 delivers=none FENCED (store unreachable)',
  );
  assert.equal(describeCluster(undefined), undefined);
  const bare: StatusResponse = {
    hubName: 'h',
    edgeDeviceId: 'e',
    ports: {},
    connected: [],
    endpoints: [],
    cluster,
  };
  assert.match(renderStatus(bare, { width: 80, color: false }), /cluster: replica=r1 alive=r0,r1/);
  assert.ok(
    renderStatusLines(bare).some((l) =>
      l.endsWith('cluster replica=r1 alive=r0,r1 delivers=module/f/in,upstream'),
    ),
  );
});

test('renderPlan: groups in the order they run, unchanged modules, routes', () => {
  const text = renderPlan(
    {
      steps: [
        { action: 'start', module: 'filter', reason: 'new module', group: 4_294_967_295 },
        { action: 'restart', module: 'sensor', reason: 'env changed', group: 1 },
        { action: 'remove', module: 'old', reason: 'removed from the deployment', group: -1 },
      ],
      unchanged: ['a', 'b'],
      routesChanged: false,
    },
    false,
  );
  assert.equal(
    text,
    [
      '  first, stops and removals:',
      '    remove   old     removed from the deployment',
      '  startupOrder 1:',
      '    restart  sensor  env changed',
      '  startupOrder 4294967295 (the default: last):',
      '    start    filter  new module',
      '  unchanged: a, b',
      '  routes: unchanged',
      '',
    ].join('\n'),
  );
  assert.equal(
    renderPlan({ steps: [], unchanged: [], routesChanged: true }, false),
    '  no module changes\n  routes: changed\n',
  );
});

test('formatMonitorEvent: one line, control characters escaped, long bodies cut', () => {
  const event: MonitorEvent = {
    time: '2024-05-01T10:00:00.123Z',
    source: 'edge/filter',
    output: 'alerts',
    to: ['upstream'],
    messageId: 'm1',
    properties: { level: 'high' },
    systemProperties: {},
    body: `${'x'.repeat(300)}\n`,
    bodyEncoding: 'utf8',
    bodyBytes: 301,
    bodyTruncated: false,
  };
  const line = formatMonitorEvent(event, false);
  assert.doesNotMatch(line, /\n/);
  assert.match(
    line,
    /^10:00:00\.123 {2}edge\/filter \(alerts\) -> upstream {2}\{level=high\} {2}x{200}… \(301 bytes\)$/,
  );
  const none = formatMonitorEvent(
    { ...event, to: [], body: 'AAE=', bodyEncoding: 'base64', properties: {} },
    false,
  );
  assert.match(none, /-> \(no route\) {2}base64:AAE=$/);
});

test('colour: only for a TTY, never with NO_COLOR; table pads by visible width', () => {
  assert.equal(useColor({ isTTY: true }, {}), true);
  assert.equal(useColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(useColor({ isTTY: true }, { NO_COLOR: '' }), true);
  assert.equal(useColor({ isTTY: false }, {}), false);
  assert.equal(useColor({}, {}), false);
  assert.deepEqual(table([{ header: 'A' }, { header: 'N', align: 'right' }], [['xyz', '1']]), [
    'A    N',
    'xyz  1',
  ]);
});
