/**
 * A module stopped while its input is busy, then started again, processes everything. The
 * module (the Azure IoT SDK, unmodified, taking 1 ms per message) gets a backlog as fast as
 * the delivery window allows; a deployment stops it mid-stream and a later one asks for it
 * running again. Shown: the second deployment starts it (the agent records the stop), and
 * every message is processed by one of the two instances: what the first was sent and did
 * not acknowledge went to the second.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { readRecords } from '../cluster/support/workloads.js';
import { connectClient, telemetryTopic } from '../support/clients.js';
import { type AgentTestNode, startAgentNode } from '../support/demo.js';
import { nodeArgs } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const backlog = 4000;
let edge: AgentTestNode | undefined;
after(async () => {
  await edge?.stop();
});

function manifest(recordDir: string, status: 'running' | 'stopped'): unknown {
  return {
    modulesContent: {
      $edgeAgent: {
        'properties.desired': {
          schemaVersion: '1.1',
          modules: {
            rec: {
              type: 'process',
              status,
              restartPolicy: 'always',
              settings: { command: 'node', args: nodeArgs('test/cluster/support/clients/recording-module') },
              env: { RECORD_DIR: { value: recordDir }, PROCESS_MS: { value: '1' } },
            },
          },
        },
      },
      $edgeHub: {
        'properties.desired': {
          schemaVersion: '1.1',
          routes: { toRec: 'FROM /messages/* INTO BrokeredEndpoint("/modules/rec/inputs/input1")' },
        },
      },
    },
  };
}

test('a module stopped mid-stream and started again: nothing lost, and it does start again', async () => {
  edge = await startAgentNode({});
  const { node, dataDir } = edge;
  const recordDir = path.join(dataDir, 'records');
  const deploy = (status: 'running' | 'stopped') =>
    node.agent!.deploy(manifest(recordDir, status), { baseDir: dataDir, dryRun: false });
  const state = async () => (await node.agent!.status()).modules.find((m) => m.name === 'rec')?.state;
  await deploy('stopped');

  const device = await node.registry.create('d0');
  const ca = await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8');
  const client = await connectClient(
    { hubName: 'test-hub.local', port: node.ports.mqtts!, tls: { ca } },
    { deviceId: 'd0', primaryKey: device.primaryKey },
  );
  for (let from = 0; from < backlog; from += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, k) =>
        client.publishAsync(telemetryTopic('d0'), JSON.stringify({ sender: 'd0', seq: from + k }), {
          qos: 1,
        }),
      ),
    );
  }
  await client.endAsync();
  assert.equal(await node.hub.queueLength('module/rec/input1'), backlog);

  // Stop it while the backlog streams in: once it has processed a little of it.
  await deploy('running');
  await waitFor('rec processing', async () => (await readRecords(recordDir)).length >= 200);
  await deploy('stopped');
  await waitFor('rec stopped', async () => (await state()) === 'stopped');
  const first = await readRecords(recordDir);
  assert.ok(first.length < backlog, `stopped mid-stream (${first.length} of ${backlog} processed)`);

  await deploy('running');
  let progress = '';
  await waitFor(
    'the backlog processed',
    async () => {
      const left = await node.hub.queueLength('module/rec/input1');
      progress = `queue ${left}, records ${(await readRecords(recordDir)).length}, rec ${await state()}`;
      return left === 0;
    },
    60_000,
    () => progress,
  );
  await deploy('stopped');
  const seen = new Set((await readRecords(recordDir)).map((r) => r.seq));
  const missing = Array.from({ length: backlog }, (_, i) => i).filter((i) => !seen.has(i));
  assert.deepEqual(missing, [], `${missing.length} acknowledged by the module and never processed`);
  const pids = new Set((await readRecords(recordDir)).map((r) => r.pid));
  assert.equal(pids.size, 2, 'two instances processed it');
  console.log(`stop mid-stream: first instance processed ${first.length} of ${backlog}; none lost`);
});
