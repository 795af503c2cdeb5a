/**
 * A module reading its input from a Tandem cluster, failing over between replicas.
 *   node module.mjs "<module connection string>" host:port,... [expect]
 * Prints each reconnection; with `expect`, exits 0 once seq 1..expect all arrived (repeats
 * after a failover are possible and counted: QoS 1 is at least once), or 1 after 60 s.
 */
import { connectToCluster } from './iothub-mqtt.mjs';

const [cs, servers, expectArg] = process.argv.slice(2);
const { ids, client } = connectToCluster(cs, servers, false);
const expect = expectArg === undefined ? undefined : Number(expectArg);
const seen = new Set();
let repeats = 0;
client.on('connect', (connack) => {
  console.log(`module ${ids.ModuleId}: connected to ${client.options.host}:${client.options.port}`);
  if (!connack.sessionPresent)
    client.subscribe(`devices/${ids.DeviceId}/modules/${ids.ModuleId}/inputs/#`, { qos: 1 });
});
client.on('offline', () => console.log(`module ${ids.ModuleId}: connection lost; trying the next replica`));
client.on('error', (err) => console.log(`module ${ids.ModuleId}: ${err.message}`));
client.on('message', (_topic, payload) => {
  const { seq } = JSON.parse(payload.toString());
  if (seen.has(seq)) repeats++;
  seen.add(seq);
  if (expect !== undefined && seen.size === expect) {
    console.log(`received all ${expect} (${repeats} repeats)`);
    client.end(false, () => process.exit(0));
  }
});
if (expect !== undefined) {
  setTimeout(() => {
    const missing = [];
    for (let s = 1; s <= expect; s++) if (!seen.has(s)) missing.push(s);
    console.log(`missing ${missing.length}: ${missing.slice(0, 20).join(',')}`);
    process.exit(1);
  }, 60_000).unref();
}
