/**
 * The official Azure IoT device SDK for Node (azure-iot-device + azure-iot-device-mqtt),
 * unmodified, against the hub over TLS with the hub's own CA: a DeviceClient sends
 * telemetry with properties, reads and patches its twin, receives a desired-property update
 * and answers a direct method; ModuleClients exchange a message through a route with its
 * properties intact.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import type { SubscribedEvent } from '../../src/hub/hub.js';
import { startTestNode, type TestNode } from '../support/node.js';

const { Client, ModuleClient, Message } = deviceSdk;
const { Mqtt } = mqttTransport;

let t: TestNode;

before(async () => {
  t = await startTestNode({
    routes: {
      deviceToWatcher:
        'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/watcher/inputs/telemetry")',
      aToB: 'FROM /messages/modules/moda/outputs/out1 INTO BrokeredEndpoint("/modules/modb/inputs/in1")',
    },
  });
});

after(async () => {
  await t.stop();
});

async function connectionString(deviceId: string, moduleId?: string): Promise<string> {
  const id = await t.identity(deviceId, moduleId);
  const identity = (await t.node.registry.get(id.deviceId, id.moduleId))!;
  // The SDK builds its URI as mqtts://{GatewayHostName}, so host:port reaches an ephemeral port.
  return t.node.registry.connectionString(identity, {
    hubName: t.node.hubName,
    gatewayHost: `localhost:${t.secure.port}`,
  });
}

type InputHandler = (inputName: string, msg: InstanceType<typeof Message>) => void;

async function openModule(deviceId: string, moduleId: string): Promise<InstanceType<typeof ModuleClient>> {
  const client = ModuleClient.fromConnectionString(await connectionString(deviceId, moduleId), Mqtt);
  await client.setOptions({ ca: t.node.caPem });
  await client.open();
  return client;
}

function nextInput(
  client: InstanceType<typeof ModuleClient>,
): Promise<{ inputName: string; msg: InstanceType<typeof Message> }> {
  return new Promise((resolve) => {
    const handler: InputHandler = (inputName, msg) => {
      client.complete(msg, () => {});
      client.removeListener('inputMessage', handler);
      resolve({ inputName, msg });
    };
    client.on('inputMessage', handler);
  });
}

function propertiesOf(msg: InstanceType<typeof Message>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < msg.properties.count(); i++) {
    const item = msg.properties.getItem(i);
    out[item.key] = item.value;
  }
  return out;
}

test('DeviceClient: telemetry with properties, twin read/patch, desired update, direct method', {
  timeout: 60_000,
}, async () => {
  const watcher = await openModule('edge1', 'watcher');
  const client = Client.fromConnectionString(await connectionString('sdk-device'), Mqtt);
  await client.setOptions({ ca: t.node.caPem });
  await client.open();
  try {
    // Telemetry with system and application properties, routed to the watcher module.
    const arrived = nextInput(watcher);
    const msg = new Message(JSON.stringify({ temperature: 22.5 }));
    msg.messageId = 'sdk-msg-1';
    msg.correlationId = 'corr-1';
    msg.contentType = 'application/json';
    msg.contentEncoding = 'utf-8';
    msg.properties.add('alert', 'high & hot');
    msg.properties.add('units', 'C/°');
    await client.sendEvent(msg);
    const { inputName, msg: got } = await arrived;
    assert.equal(inputName, 'telemetry');
    assert.deepEqual(JSON.parse(got.getData().toString()), { temperature: 22.5 });
    assert.equal(got.messageId, 'sdk-msg-1');
    assert.equal(got.correlationId, 'corr-1');
    assert.equal(got.contentType, 'application/json');
    const props = propertiesOf(got);
    assert.equal(props.alert, 'high & hot');
    assert.equal(props.units, 'C/°');
    assert.equal(props['$.cdid'], 'sdk-device');

    // Twin: read, patch reported, see it in the hub's copy.
    const twin = await client.getTwin();
    await new Promise<void>((resolve, reject) =>
      twin.properties.reported.update({ firmware: '2.0.1', telemetryInterval: 10 }, (err?: Error) =>
        err ? reject(err) : resolve(),
      ),
    );
    const stored = await t.node.hub.getTwin('sdk-device');
    assert.equal(stored.reported.firmware, '2.0.1');
    assert.equal(stored.reported.$version, 2);

    // Desired update pushed by the hub arrives as a 'properties.desired' event.
    const desired = new Promise<Record<string, unknown>>((resolve) =>
      twin.on('properties.desired', (delta: Record<string, unknown>) => {
        if (delta.telemetryInterval === 30) resolve(delta);
      }),
    );
    await t.node.hub.patchDesired('sdk-device', { telemetryInterval: 30 });
    assert.equal((await desired).telemetryInterval, 30);

    // Direct method answered by the SDK's onDeviceMethod handler; the SDK subscribes lazily.
    const subscribed = new Promise<void>((resolve) => {
      const onSubscribed = (e: SubscribedEvent): void => {
        if (e.identity === 'sdk-device' && e.kind === 'methods') {
          t.node.hub.events.off('subscribed', onSubscribed);
          resolve();
        }
      };
      t.node.hub.events.on('subscribed', onSubscribed);
    });
    client.onDeviceMethod('reboot', (request, response) => {
      response.send(200, { rebooting: true, delay: (request.payload as { delay: number }).delay }, () => {});
    });
    await subscribed;
    const result = await t.node.hub.invokeMethod({
      identity: 'sdk-device',
      methodName: 'reboot',
      payload: { delay: 7 },
    });
    assert.deepEqual(result, { status: 200, payload: { rebooting: true, delay: 7 } });
  } finally {
    await client.close();
    await watcher.close();
  }
});

test("ModuleClient: an output reaches another module's input through a route, properties intact", {
  timeout: 60_000,
}, async () => {
  const modA = await openModule('edge1', 'moda');
  const modB = await openModule('edge1', 'modb');
  try {
    const arrived = nextInput(modB);
    const msg = new Message('{"reading":42}');
    msg.contentType = 'application/json';
    msg.contentEncoding = 'utf-8';
    msg.properties.add('stage', 'filtered');
    await modA.sendOutputEvent('out1', msg);
    const { inputName, msg: got } = await arrived;
    assert.equal(inputName, 'in1');
    assert.equal(got.getData().toString(), '{"reading":42}');
    assert.equal(got.contentType, 'application/json');
    const props = propertiesOf(got);
    assert.equal(props.stage, 'filtered');
    assert.equal(props['$.cmid'], 'moda');
  } finally {
    await modA.close();
    await modB.close();
  }
});
