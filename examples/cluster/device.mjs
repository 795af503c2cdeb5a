/**
 * A device sending numbered telemetry to a Tandem cluster, failing over between replicas.
 *   node device.mjs "<device connection string>" host:port,host:port,... [count] [ratePerSec]
 * Prints each reconnection and, at the end, `acked=N`: every message up to N was acknowledged
 * (QoS 1: a message is only acknowledged once a quorum of nodes stored it).
 */
import { connectToCluster } from './iothub-mqtt.mjs';

const [cs, servers, countArg = '200', rateArg = '20'] = process.argv.slice(2);
const { ids, client } = connectToCluster(cs, servers, true);
const count = Number(countArg);
let seq = 0;
let acked = 0;
client.on('connect', () =>
  console.log(`device ${ids.DeviceId}: connected to ${client.options.host}:${client.options.port}`),
);
client.on('offline', () => console.log(`device ${ids.DeviceId}: connection lost; trying the next replica`));
client.on('error', (err) => console.log(`device ${ids.DeviceId}: ${err.message}`));
const timer = setInterval(() => {
  if (seq >= count) return clearInterval(timer);
  const n = ++seq;
  // MQTT.js keeps an unacknowledged message and sends it again after a reconnection.
  client.publish(
    `devices/${ids.DeviceId}/messages/events/`,
    JSON.stringify({ seq: n }),
    { qos: 1 },
    (err) => {
      if (err) return;
      acked++;
      if (acked === count) {
        console.log(`acked=${acked}`);
        client.end();
      }
    },
  );
}, 1000 / Number(rateArg));
